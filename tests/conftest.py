"""Shared fixtures: settings, a fresh migrated database per test, an open pool, brokers."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

from config.settings import Settings, load_settings
from monitor.broker import BrokerProcess, broker_answers, start_mosquitto
from storage.migrate import migrate
from storage.pool import make_pool

#: The server the tests use; CI and the README start it if it is not running.
TEST_SERVER = os.environ.get(
    "SW_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TEST_BROKER = ("127.0.0.1", 1883)
TEST_SECRET = "test-secret-key-0123456789abcdef0123456789"
TEST_ADMIN_PASSWORD = "test-admin-password-1234"
#: The draws' pseudonym key in tests (the auditors' copy would be this).
TEST_AUDITOR_KEY = "5e" * 16 + "a1b2c3d4" * 4

_counter = itertools.count()


def _admin_url() -> str:
    return make_conninfo(TEST_SERVER, dbname="postgres")


def _db_url(name: str) -> str:
    return make_conninfo(TEST_SERVER, dbname=name)


def _drop(name: str) -> None:
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def template_db() -> Iterator[str]:
    """A database migrated once per test session, used as the template for each test's own."""
    name = f"sw_tmpl_{os.getpid()}"
    _drop(name)
    migrate(_db_url(name))
    # Nobody may connect to a template while it is copied; TimescaleDB's background workers would.
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(sql.Identifier(name))
        )
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %(n)s",
            {"n": name},
        )
    yield name
    _drop(name)


@pytest.fixture
def db_url(template_db: str) -> Iterator[str]:
    """A fresh, fully migrated database of this test's own (dropped afterwards)."""
    name = f"sw_t_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template_db)
            )
        )
    yield _db_url(name)
    _drop(name)


@pytest.fixture
def empty_db_url() -> Iterator[str]:
    """The URL of a database that does not exist yet (migrate creates it)."""
    name = f"sw_e_{os.getpid()}_{next(_counter)}"
    _drop(name)
    yield _db_url(name)
    _drop(name)


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[AsyncConnectionPool]:
    """An open pool on this test's database."""
    p = make_pool(db_url, min_size=1, max_size=4)
    await p.open(wait=True)
    yield p
    await p.close()


@pytest.fixture
def mqtt_broker() -> tuple[str, int]:
    """The machine's broker (host, port); tests use a unique topic prefix of their own."""
    if not broker_answers(*TEST_BROKER):
        pytest.fail("no MQTT broker at 127.0.0.1:1883 (the README's test command starts one)")
    return TEST_BROKER


@pytest.fixture
def project_broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    """A Mosquitto of our own on a free port with the project's config (loss-sensitive tests)."""
    broker = start_mosquitto(tmp_path / "mosquitto")
    yield broker
    broker.stop()


@pytest.fixture
def topic_prefix() -> str:
    """A topic prefix unique to this test, so tests sharing a broker never see each other."""
    return f"swtest{os.getpid()}x{next(_counter)}/v1"


@pytest.fixture
def settings(
    db_url: str, mqtt_broker: tuple[str, int], topic_prefix: str, tmp_path: Path
) -> Settings:
    """Non-demo settings pointing at this test's database and the machine's broker."""
    return load_settings(
        database_url=db_url,
        mqtt_url=f"mqtt://{mqtt_broker[0]}:{mqtt_broker[1]}",
        mqtt_topic_prefix=topic_prefix,
        secret_key=TEST_SECRET,
        admin_password=TEST_ADMIN_PASSWORD,
        data_dir=tmp_path / "data",
        draw_auditor_key=TEST_AUDITOR_KEY,
        draw_test_mode=True,  # a test setting: draws without a public value are allowed
    )
