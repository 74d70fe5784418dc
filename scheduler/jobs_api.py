"""API housekeeping: sign-in attempts are only needed for throttling, so old ones are pruned."""

from __future__ import annotations

import logging
from typing import Any

from scheduler.context import current
from storage import login_attempts

log = logging.getLogger(__name__)


async def prune_login_attempts() -> None:
    """Delete sign-in attempts older than two days; log and re-raise on failure."""
    ctx = current()
    try:
        async with ctx.pool.connection() as conn:
            removed = await login_attempts.prune(conn)
        log.info("pruned %d old sign-in attempts", removed)
    except Exception:
        log.exception("pruning sign-in attempts failed")
        raise


def register(scheduler: Any) -> None:
    """Add this module's jobs (idempotent: fixed ids, replace_existing)."""
    scheduler.add_job(
        "scheduler.jobs_api:prune_login_attempts",
        "cron",
        hour=4,
        minute=41,
        id="prune_login_attempts",
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=3600,
    )
