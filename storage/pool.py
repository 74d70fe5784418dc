"""Connection pool, database creation and capability probing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from domain.errors import StorageUnavailable
from domain.i18n import msg

log = logging.getLogger(__name__)

CREATE_DB_LOCK = 0x5AFE_0000

PING = "SELECT 1"
HAS_TIMESCALE = """
SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
   AND current_setting('shared_preload_libraries') LIKE '%%timescaledb%%' AS timescaledb
"""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the connected server offers."""

    timescaledb: bool
    server_version: int


def make_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> AsyncConnectionPool:
    """Return an unopened pool; open it in the lifespan (`await pool.open(wait=True)`)."""
    return AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        open=False,
        kwargs={"autocommit": False},
        name="safewatch",
        timeout=10,
    )


def ensure_database(url: str) -> bool:
    """Create the database named in `url` if it does not exist; return True when created."""
    params = conninfo_to_dict(url)
    dbname = str(params.get("dbname") or "postgres")
    admin = make_conninfo(url, dbname="postgres")
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            # Serialise creators: concurrent CREATE DATABASE can fail on the catalog's index.
            conn.execute("SELECT pg_advisory_lock(%(k)s)", {"k": CREATE_DB_LOCK})
            try:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": dbname}
                ).fetchone()
                if exists:
                    return False
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
                log.info("created database %s", dbname)
                return True
            finally:
                conn.execute("SELECT pg_advisory_unlock(%(k)s)", {"k": CREATE_DB_LOCK})
    except psycopg.OperationalError as exc:
        raise StorageUnavailable(msg("storage.create_database", dbname=dbname, exc=exc)) from exc


def probe(conn: psycopg.Connection[Any]) -> Capabilities:
    """Read the server's capabilities on an open connection."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(HAS_TIMESCALE).fetchone()
    return Capabilities(
        timescaledb=bool(row and row["timescaledb"]), server_version=conn.info.server_version
    )


def server_answers(url: str, *, timeout: float = 2.0) -> bool:
    """Whether a PostgreSQL server answers at `url` (any database error still means it answers)."""
    try:
        with psycopg.connect(url, connect_timeout=max(1, int(timeout))):
            return True
    except psycopg.OperationalError as exc:
        return "does not exist" in str(exc)


async def ping(conn: psycopg.AsyncConnection[Any]) -> None:
    """One round trip (health checks, keeping a held connection alive)."""
    await conn.execute(PING)
