"""Monitoring watchdogs: alarm escalation, presence, commitments, stale tags, permits, trials."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from psycopg import AsyncConnection

from config.policy_monitoring import MonitoringPolicy
from domain import special_ops as so
from domain.alarms import Rule
from domain.clock import utcnow
from domain.commitment import missing_outcome
from domain.errors import StorageUnavailable
from domain.monitoring import NOTHING, EnterpriseId, RuleOutcome
from domain.presence import offline_outcome
from domain.status import check_trial_overrun
from domain.telemetry import stale_outcome
from scheduler.context import current
from scheduler.isolation import Problems, apply_isolated, load_isolated
from services import alarms as services
from services.changes import announce
from storage import alarms, commitments, enterprise_status, ingest_keys, special_ops, telemetry_tags

log = logging.getLogger(__name__)

Check = Callable[
    [AsyncConnection[Any], MonitoringPolicy, datetime, Problems], Awaitable[RuleOutcome]
]


async def _run(name: str, check: Check) -> int:
    """Run one check in a transaction and apply its alarms enterprise by enterprise; an
    enterprise whose rows cannot be read or evaluated is skipped and alarmed as a data problem
    (scheduler/isolation.py); anything else is logged and re-raised."""
    ctx = current()
    policy = ctx.policies.monitoring
    now = utcnow()
    problems = Problems(name)
    try:
        async with ctx.pool.connection() as conn:
            outcome = await check(conn, policy, now, problems)
            changed = await apply_isolated(conn, outcome, problems, rules=policy.rules, now=now)
    except Exception:
        log.exception("monitoring job %s failed", name)
        raise
    if changed:
        log.info("%s: %d alarms changed", name, changed)
    return changed


async def escalate_alarms() -> None:
    """Escalate alarms nobody acknowledged in time: one colour up, notify again."""
    ctx = current()
    policy = ctx.policies.monitoring
    now = utcnow()
    problems = Problems("escalate_alarms")
    try:
        async with ctx.pool.connection() as conn:
            for alarm in await alarms.due_for_escalation(conn, now=now):
                spec = policy.rules.get(alarm.rule)
                if spec is None:
                    continue
                try:
                    async with conn.transaction():
                        await services.escalate(conn, alarm, spec, now)
                except Exception as exc:
                    if isinstance(exc, StorageUnavailable):
                        raise
                    problems.add(alarm.enterprise_id, exc)
            if problems.found:
                await apply_isolated(conn, NOTHING, problems, rules=policy.rules, now=now)
    except Exception:
        log.exception("alarm escalation failed")
        raise


async def _presence(
    conn: AsyncConnection[Any], policy: MonitoringPolicy, now: datetime, problems: Problems
) -> RuleOutcome:
    timeout = timedelta(seconds=current().settings.presence_timeout_s)
    open_now = {str(e) for e, _ in await alarms.open_subjects(conn, rule=Rule.OFFLINE)}
    outcome = NOTHING
    for ent, presence in (await enterprise_status.all_presence(conn)).items():
        result = problems.evaluate(ent, offline_outcome, ent, presence, now, timeout)
        if result.raises and ent not in open_now:
            outcome += result
            await announce(conn, changes=[("presence", ent, {"online": False, "derived": True})])
        elif result.clears and ent in open_now:
            outcome += result
    return outcome


async def presence_watchdog() -> None:
    """Mark sites offline after the configured silence (alarm) and clear it when they return."""
    await _run("presence_watchdog", _presence)


async def _commitments(
    conn: AsyncConnection[Any], policy: MonitoringPolicy, now: datetime, problems: Problems
) -> RuleOutcome:
    tz = current().settings.tz
    today = now.astimezone(tz).date()
    due = datetime.combine(today, policy.commitment_due, tz)
    if now < due:
        return NOTHING
    subject = f"day:{today.isoformat()}"
    open_now = {
        str(e)
        for e, s in await alarms.open_subjects(conn, rule=Rule.COMMITMENT_MISSING)
        if s == subject
    }
    outcome = NOTHING
    for ent in await commitments.missing_for_day(conn, day=today):
        if ent not in open_now:
            outcome += missing_outcome(ent, today, due, now)
    return outcome


async def commitment_check() -> None:
    """Alarm for every monitored enterprise without today's commitment after the due time."""
    await _run("commitment_check", _commitments)


async def _stale(
    conn: AsyncConnection[Any], policy: MonitoringPolicy, now: datetime, problems: Problems
) -> RuleOutcome:
    default = int(policy.default_stale_after.total_seconds())
    open_now = {(str(e), s) for e, s in await alarms.open_subjects(conn, rule=Rule.TELEMETRY_STALE)}
    outcome = NOTHING
    for ent, tag, last_ts, stale_s in await telemetry_tags.stale_tags(
        conn, default_stale_s=default
    ):
        if (ent, f"tag:{tag}") not in open_now:
            outcome += problems.evaluate(
                ent,
                stale_outcome,
                EnterpriseId(ent),
                tag,
                last_ts,
                timedelta(seconds=stale_s),
                now,
            )
    return outcome


async def stale_tags() -> None:
    """Flag registered tags that stopped reporting."""
    await _run("stale_tags", _stale)


async def _ops(
    conn: AsyncConnection[Any], policy: MonitoringPolicy, now: datetime, problems: Problems
) -> RuleOutcome:
    outcome = NOTHING
    ops = await load_isolated(
        conn,
        problems,
        lambda: special_ops.open_ops(conn),
        lambda: special_ops.enterprises_with_open_ops(conn),
        lambda ent: special_ops.open_ops(conn, ent=ent),
    )
    by_key = {(str(o.enterprise_id), str(o.op_id)): o for o in ops}
    video_live = await special_ops.live_video_enterprises(conn)
    for op in ops:
        if op.valid_to - op.valid_from > policy.max_permit:
            # Stored before the ingest range-checked permits (or written by hand): never
            # "expires", so flag it instead of silently checking nothing.
            problems.add(
                op.enterprise_id,
                f"operation {op.op_id}: permit window {op.valid_from.isoformat()} .. "
                f"{op.valid_to.isoformat()} is implausible",
            )
        check = partial(
            so.periodic, video_live=str(op.enterprise_id) in video_live, open_ops=by_key
        )
        outcome += problems.evaluate(op.enterprise_id, check, op, now, policy.special_ops)
    for status in await enterprise_status.overdue_trials(conn, now=now):
        outcome += problems.evaluate(status.enterprise_id, check_trial_overrun, status, now)
    return outcome


async def special_ops_checks() -> None:
    """Permits expired while work is open, stale gas tests, video of 特级动火, temporary power
    outlasting its work, trial production past its end."""
    await _run("special_ops_checks", _ops)


async def prune_keys() -> None:
    """Forget exactly-once keys past the redelivery horizon (events 30 d, telemetry 2 d)."""
    ctx = current()
    now = utcnow()
    try:
        async with ctx.pool.connection() as conn:
            ev, tm = await ingest_keys.prune_keys(
                conn,
                events_before=now - timedelta(days=30),
                telemetry_before=now - timedelta(days=2),
            )
        log.info("pruned %d event keys and %d telemetry keys", ev, tm)
    except Exception:
        log.exception("pruning exactly-once keys failed")
        raise


JOBS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("escalate_alarms", {"trigger": "interval", "seconds": 30}),
    ("presence_watchdog", {"trigger": "interval", "seconds": 15}),
    ("commitment_check", {"trigger": "interval", "minutes": 5}),
    ("stale_tags", {"trigger": "interval", "seconds": 60}),
    ("special_ops_checks", {"trigger": "interval", "seconds": 30}),
    ("prune_keys", {"trigger": "cron", "hour": 4, "minute": 7}),
)


def register(scheduler: Any) -> None:
    """Add this module's jobs (fixed ids, replace_existing)."""
    for name, trigger in JOBS:
        scheduler.add_job(
            f"scheduler.jobs_monitor:{name}",
            id=f"monitor_{name}",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=300,
            **trigger,
        )
