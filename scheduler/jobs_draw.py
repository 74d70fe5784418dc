"""Scheduled draws: each plan's cron (bureau time) opens a period that is frozen and drawn once."""

from __future__ import annotations

import logging
from typing import Any

from domain.clock import utcnow
from domain.monitoring import NOTHING
from scheduler.context import current
from scheduler.isolation import Problems, apply_isolated
from services import draws as draw_service

log = logging.getLogger(__name__)

#: How often due plans are looked for; a draw happens at most this late after its cron time.
POLL_SECONDS = 60


async def due_draws() -> None:
    """The scheduled job: draw every plan whose scheduled time has come and is not drawn yet.
    Each plan on its own (one failing never stops the others); an enterprise whose directory
    row the draw verifier would refuse is left out of the population, logged and alarmed to
    duty staff as a data problem (`stored_data_invalid`, job:draws) — never stops the draw."""
    ctx = current()
    policy = draw_service.draw_policy(ctx.settings)
    now = utcnow()
    problems = Problems("draws")
    try:
        records = await draw_service.run_due_draws(
            ctx.pool, now=now, policy=policy, on_bad_row=problems.add
        )
    finally:
        if problems.found:
            async with ctx.pool.connection() as conn:
                await apply_isolated(
                    conn, NOTHING, problems, rules=ctx.policies.monitoring.rules, now=now
                )
    for record in records:
        log.info(
            "draws: %s %s is %s (draw %d)", record.plan_id, record.period, record.state, record.id
        )


def register(scheduler: Any) -> None:
    """Poll every minute. Exactly once per (plan, window): the leader lock runs one scheduler,
    the unique key (plan_id, window, attempt) and the frozen → drawn guard refuse a second
    draw, and a plan's latest due period is caught up after downtime or a misfire."""
    scheduler.add_job(
        "scheduler.jobs_draw:due_draws",
        "interval",
        seconds=POLL_SECONDS,
        id="draws",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        next_run_time=utcnow(),
    )
