"""Faults: the monitor killed with SIGKILL mid-stream, PostgreSQL refusing connections during
ingest, the broker restarting — every QoS 1 event the broker accepted is stored exactly once.
The whole suite with a table (bench/faults.py) runs in tests/integration/test_fault_suite.py."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bench.fault_support import Publisher
from config.settings import Settings
from monitor import metrics
from monitor.broker import BrokerProcess, start_mosquitto
from tests.conftest import TEST_ADMIN_PASSWORD, TEST_SECRET
from tests.integration.monitor_support import (
    broker_dir,
    running_ingest,
    seed,
    stop_broker,
    ts,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]


def stored(db_url: str) -> tuple[int, int]:
    """(rows, distinct event ids) in events."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def wait_stored(db_url: str, n: int, timeout: float = 60) -> tuple[int, int]:
    deadline = time.monotonic() + timeout
    got = stored(db_url)
    while got[1] < n and time.monotonic() < deadline:
        time.sleep(0.2)
        got = stored(db_url)
    return got


async def until_stored(db_url: str, n: int) -> None:
    """Wait until at least n events are stored."""

    async def enough() -> bool:
        return stored(db_url)[0] >= n

    await wait_for(enough, timeout=30, what=f"{n} events stored")


@pytest.fixture
def own_broker() -> Iterator[BrokerProcess]:
    root = broker_dir()
    broker = start_mosquitto(root / "broker")
    yield broker
    stop_broker(broker)


def _monitor(settings: Settings, broker: BrokerProcess, db_url: str) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SAFEWATCH_")},
        "SAFEWATCH_DATABASE_URL": db_url,
        "SAFEWATCH_MQTT_URL": f"mqtt://{broker.host}:{broker.port}",
        "SAFEWATCH_MQTT_TOPIC_PREFIX": settings.mqtt_topic_prefix,
        "SAFEWATCH_MQTT_CLIENT_ID": "fault-monitor",
        "SAFEWATCH_SECRET_KEY": TEST_SECRET,
        "SAFEWATCH_ADMIN_PASSWORD": TEST_ADMIN_PASSWORD,
        "SAFEWATCH_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "safewatch", "monitor"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
async def test_sigkill_mid_stream_loses_and_duplicates_nothing(
    settings: Settings, pool, db_url: str, own_broker: BrokerProcess
) -> None:
    (ent,) = await seed(pool, 1)
    total = 4000
    monitor = _monitor(settings, own_broker, db_url)
    try:
        deadline = time.monotonic() + 30
        warm = Publisher(own_broker, settings.mqtt_topic_prefix, ent, 0, 1)
        while stored(db_url)[0] == 0 and time.monotonic() < deadline:  # until it consumes
            body = (
                f'{{"event_id": "warm", "ts": "{ts()}", "type": "maintenance_end",'
                ' "maint_id": "x"}'
            )
            warm.c.publish(warm.topic, body.encode(), qos=1).wait_for_publish(5)
            await asyncio.sleep(0.5)
        warm.close()
        pub = Publisher(own_broker, settings.mqtt_topic_prefix, ent, total, 60).start()
        await until_stored(db_url, 800)
        monitor.send_signal(signal.SIGKILL)
        monitor.wait(10)
        killed_at = stored(db_url)[0]
        monitor = _monitor(settings, own_broker, db_url)
        await asyncio.to_thread(pub.wait)
        pub.close()
        assert len(pub.accepted) == total
        rows_, distinct = await asyncio.to_thread(wait_stored, db_url, total + 1)
    finally:
        monitor.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            monitor.wait(15)
        if monitor.poll() is None:
            monitor.kill()
    assert killed_at < total
    assert distinct == total + 1
    assert rows_ == distinct


async def test_database_refusing_connections_loses_nothing(
    settings: Settings, pool, db_url: str, own_broker: BrokerProcess
) -> None:
    (ent,) = await seed(pool, 1)
    await pool.close()
    dbname = str(conninfo_to_dict(db_url)["dbname"])
    admin = make_conninfo(db_url, dbname="postgres")
    local = settings.model_copy(update={"mqtt_url": f"mqtt://{own_broker.host}:{own_broker.port}"})
    from storage.pool import make_pool

    ingest_pool = make_pool(db_url, min_size=1, max_size=4)
    await ingest_pool.open(wait=True)
    total = 1500
    try:
        async with running_ingest(local, ingest_pool, client_id="db-outage"):
            pub = Publisher(own_broker, local.mqtt_topic_prefix, ent, total, 50).start()
            await until_stored(db_url, 300)
            retries = metrics.DB_RETRIES._value.get()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(
                        sql.Identifier(dbname)
                    )
                )
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = %(d)s AND pid <> pg_backend_pid()",
                    {"d": dbname},
                )
            await asyncio.sleep(0.3)  # a batch in its commit may still finish
            at_outage = metrics.EVENTS_STORED._value.get()
            await asyncio.sleep(3)  # the publisher keeps going; nothing can be stored
            assert metrics.EVENTS_STORED._value.get() == at_outage
            assert metrics.DB_RETRIES._value.get() > retries
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(
                        sql.Identifier(dbname)
                    )
                )
            await asyncio.to_thread(pub.wait)
            pub.close()
            rows_, distinct = await asyncio.to_thread(wait_stored, db_url, total)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(dbname))
            )
        await ingest_pool.close()
    assert len(pub.accepted) == total
    assert (rows_, distinct) == (total, total)


async def test_broker_restart_loses_nothing(settings: Settings, pool, db_url: str) -> None:
    (ent,) = await seed(pool, 1)
    root = broker_dir()
    broker = start_mosquitto(root / "broker")
    local = settings.model_copy(update={"mqtt_url": f"mqtt://{broker.host}:{broker.port}"})
    total = 1500
    try:
        async with running_ingest(local, pool, client_id="broker-restart"):
            pub = Publisher(broker, local.mqtt_topic_prefix, ent, total, 50).start()
            await until_stored(db_url, 300)
            at_stop = stored(db_url)[0]
            stop_broker(broker)  # SIGTERM: Mosquitto saves its persistence file
            await asyncio.sleep(1)
            broker = start_mosquitto(root / "broker", port=broker.port)
            await asyncio.to_thread(pub.wait)
            pub.close()
            rows_, distinct = await asyncio.to_thread(wait_stored, db_url, len(pub.accepted))
    finally:
        stop_broker(broker)
    assert at_stop < total
    assert len(pub.accepted) >= total - 500  # in flight when the broker went away: never accepted
    assert distinct == len(pub.accepted)
    assert rows_ == distinct
