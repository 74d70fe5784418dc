"""Time-series maintenance: partitions ahead, retention, hourly rollup refresh."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from psycopg import AsyncConnection

from domain.clock import utcnow
from scheduler.context import current
from storage import timeseries

log = logging.getLogger(__name__)


async def maintain_timeseries() -> None:
    """Create partitions ahead and enforce retention; log and re-raise on failure."""
    ctx = current()
    try:
        async with ctx.pool.connection() as conn:
            await timeseries.ensure_partitions(conn)
            await timeseries.apply_retention(
                conn,
                now=utcnow(),
                telemetry_days=ctx.settings.telemetry_retention_days,
                events_days=ctx.settings.events_retention_days,
            )
    except Exception:
        log.exception("time-series maintenance failed")
        raise


async def refresh_rollup() -> None:
    """Refresh the last three hours of the hourly telemetry rollup."""
    ctx = current()
    now = utcnow()
    try:
        conn = await AsyncConnection.connect(ctx.settings.database_url, autocommit=True)
        async with conn:
            await timeseries.refresh_rollup(conn, start=now - timedelta(hours=3), end=now)
    except Exception:
        log.exception("rollup refresh failed")
        raise


def register(scheduler: Any) -> None:
    """Add this module's jobs (idempotent: fixed ids, replace_existing)."""
    scheduler.add_job(
        "scheduler.jobs_maintenance:maintain_timeseries",
        "cron",
        hour=3,
        minute=17,
        id="maintain_timeseries",
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=3600,
    )
    scheduler.add_job(
        "scheduler.jobs_maintenance:refresh_rollup",
        "interval",
        minutes=10,
        id="refresh_rollup",
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=600,
    )
