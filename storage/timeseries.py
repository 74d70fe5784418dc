"""Maintenance of the time-series tables on both paths (TimescaleDB or native partitions)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection

from storage.pool import HAS_TIMESCALE
from storage.rows import fetch_value

log = logging.getLogger(__name__)

ENSURE_PARTITIONS = "SELECT sw_ensure_partitions(%(back)s, %(ahead)s)"
DROP_BEFORE = "SELECT sw_drop_partitions_before(%(parent)s, %(older_than)s)"
REFRESH_NATIVE = "SELECT sw_refresh_telemetry_hourly(%(start)s, %(end)s)"
REFRESH_TIMESCALE = "CALL refresh_continuous_aggregate('telemetry_hourly', %(start)s, %(end)s)"
RETENTION_REMOVE = "SELECT remove_retention_policy(%(rel)s, if_exists => true)"
RETENTION_ADD = "SELECT add_retention_policy(%(rel)s, %(keep)s::interval)"


async def is_timescale(conn: AsyncConnection[Any]) -> bool:
    """Whether this server runs TimescaleDB."""
    return bool(await fetch_value(conn, statement=HAS_TIMESCALE))


async def ensure_partitions(conn: AsyncConnection[Any], *, months_ahead: int = 3) -> int:
    """Create monthly partitions ahead (native path; a no-op on TimescaleDB)."""
    created = int(
        await fetch_value(
            conn, statement=ENSURE_PARTITIONS, params={"back": 1, "ahead": months_ahead}
        )
        or 0
    )
    if created:
        log.info("created %d time-series partitions", created)
    return created


async def apply_retention(
    conn: AsyncConnection[Any], *, now: datetime, telemetry_days: int, events_days: int
) -> int:
    """Enforce retention: TimescaleDB policies, or dropping whole expired native partitions."""
    if await is_timescale(conn):
        for rel, days in (("telemetry", telemetry_days), ("events", events_days)):
            await conn.execute(RETENTION_REMOVE, {"rel": rel})
            await conn.execute(RETENTION_ADD, {"rel": rel, "keep": f"{days} days"})
        return 0
    dropped = 0
    for parent, days in (("telemetry", telemetry_days), ("events", events_days)):
        older_than = now - timedelta(days=days)
        dropped += int(
            await fetch_value(
                conn, statement=DROP_BEFORE, params={"parent": parent, "older_than": older_than}
            )
            or 0
        )
    return dropped


async def refresh_rollup(conn: AsyncConnection[Any], *, start: datetime, end: datetime) -> None:
    """Refresh the hourly telemetry rollup for [start, end) on an autocommit connection.

    TimescaleDB refuses to refresh a continuous aggregate inside a transaction block, so the
    caller passes a connection of its own in autocommit mode on both paths.
    """
    if not conn.autocommit:
        raise ValueError("refresh_rollup needs a connection in autocommit mode")
    start = start.replace(minute=0, second=0, microsecond=0)
    query = REFRESH_TIMESCALE if await is_timescale(conn) else REFRESH_NATIVE
    await conn.execute(query, {"start": start, "end": end})
