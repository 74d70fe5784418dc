"""Daily reminders: licence renewals, rectification deadlines, end of penalty publication."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Protocol, TypeVar

from psycopg import AsyncConnection

from config.policy_enforcement import ReminderPolicy
from domain import licences as licence_rules
from domain import reminders as rules
from domain.clock import Clock, utcnow
from domain.downlinks import ttl
from domain.licences import RenewalSchedule
from domain.monitoring import NOTHING
from scheduler.context import current
from scheduler.isolation import Problems, apply_isolated, load_by_enterprise, write_isolated
from services import findings, rectification
from services import reminders as reminder_service
from services.changes import SYSTEM, Audit, record
from storage import enforcement

log = logging.getLogger(__name__)


class _OfEnterprise(Protocol):
    @property
    def enterprise_id(self) -> str: ...


_T = TypeVar("_T", bound=_OfEnterprise)


async def send_due_reminders(
    conn: AsyncConnection[Any],
    *,
    today: date,
    now: datetime,
    policy: ReminderPolicy,
    schedule: RenewalSchedule,
    notice_life: timedelta,
    problems: Problems | None = None,
) -> list[rules.Reminder]:
    """Record every reminder due today that was not sent before (the enterprise's own also as a
    notice, services/reminders.py); withdraw expired penalties.

    Enterprise by enterprise (scheduler/isolation.py): an enterprise whose rows cannot be read,
    evaluated or written is skipped and noted in `problems` (the job alarms duty staff) — it
    never stops the reminders of the others."""
    problems = problems or Problems("reminders")
    due: dict[str, list[rules.Reminder]] = {}
    for code, licences in await enforcement.licences(conn):
        found = problems.compute(
            code,
            licence_rules.licence_reminders,
            code,
            licences,
            today=today,
            schedule=schedule,
        )
        due.setdefault(code, []).extend(found or [])
    await _remind(
        conn,
        problems,
        due,
        enforcement.open_findings_due,
        enforcement.enterprises_with_findings_due,
        rules.rectification_reminders,
        today=today,
        offsets=policy.rectification_deadline,
    )
    by_ent = await _remind(
        conn,
        problems,
        due,
        enforcement.penalties_due,
        enforcement.enterprises_with_penalties_due,
        rules.penalty_reminders,
        today=today,
        offsets=policy.penalty_expiry,
    )
    sent: list[rules.Reminder] = []
    for ent in sorted(due):
        if due[ent] and ent not in problems.found:
            done = await write_isolated(
                conn, problems, ent, partial(_record, conn, due[ent], now, notice_life)
            )
            sent += done or []
    for ent in sorted(by_ent):
        withdrawn = problems.compute(ent, rules.expired, by_ent[ent], today=today)
        if withdrawn and ent not in problems.found:
            await write_isolated(conn, problems, ent, partial(_withdraw, conn, withdrawn, now))
    return sent


async def _remind(
    conn: AsyncConnection[Any],
    problems: Problems,
    due: dict[str, list[rules.Reminder]],
    load: Callable[..., Awaitable[list[_T]]],
    enterprises: Callable[..., Awaitable[list[str]]],
    remind: Callable[..., list[rules.Reminder]],
    *,
    today: date,
    offsets: Sequence[int],
) -> dict[str, list[_T]]:
    """Read the rows due within the offsets' window enterprise-safely, add each enterprise's
    reminders to `due`; the rows by enterprise."""
    until = rules.window_end(today, offsets)
    rows = await load_by_enterprise(
        conn, problems, partial(load, conn, until=until), partial(enterprises, conn, until=until)
    )
    by_ent = _by_enterprise(rows)
    for ent, items in by_ent.items():
        found = problems.compute(ent, remind, items, today=today, offsets=offsets)
        due.setdefault(ent, []).extend(found or [])
    return by_ent


def _by_enterprise(rows: Iterable[_T]) -> dict[str, list[_T]]:
    out: dict[str, list[_T]] = {}
    for row in rows:
        out.setdefault(str(row.enterprise_id), []).append(row)
    return out


async def _record(
    conn: AsyncConnection[Any],
    due: list[rules.Reminder],
    now: datetime,
    notice_life: timedelta,
) -> list[rules.Reminder]:
    """Store and deliver one enterprise's reminders; the ones not sent before."""
    sent = []
    for reminder in due:
        if await reminder_service.send(conn, reminder=reminder, now=now, notice_life=notice_life):
            sent.append(reminder)
    return sent


async def _withdraw(conn: AsyncConnection[Any], withdrawn: list[int], now: datetime) -> None:
    """Withdraw one enterprise's penalties whose publication period ended (audited)."""
    if await enforcement.withdraw_penalties(conn, ids=withdrawn, at=now):
        await record(
            conn,
            actor=SYSTEM,
            audit_entry=Audit(
                "penalty.withdraw",
                f"penalties:{','.join(map(str, withdrawn))}",
                after={"reason": "publication period ended"},
            ),
            changes=[("penalty", None, {"ids": withdrawn, "state": "withdrawn"})],
        )


async def reminders() -> None:
    """The scheduled job: today's reminders in the bureau's time zone; enterprises skipped for
    bad stored data are alarmed to duty staff (`stored_data_invalid`)."""
    ctx = current()
    # A test freezes the job's clock through the context (extras["clock"]).
    clock: Clock = ctx.extras.get("clock", utcnow)
    now = clock()
    problems = Problems("reminders")
    try:
        async with ctx.pool.connection() as conn:
            sent = await send_due_reminders(
                conn,
                today=now.astimezone(ctx.settings.tz).date(),
                now=now,
                policy=ctx.policies.reminders,
                schedule=ctx.policies.licences,
                notice_life=ttl(ctx.policies.monitoring, "notice"),
                problems=problems,
            )
            await apply_isolated(
                conn, NOTHING, problems, rules=ctx.policies.monitoring.rules, now=now
            )
        today = now.astimezone(ctx.settings.tz).date()
        async with ctx.pool.connection() as conn, conn.transaction():
            # issue 15: provisional 不予/首违 outcomes not verified in time lapse to 立案, and
            # overdue rectification orders are escalated to the supervisors
            lapsed = await findings.lapse_due(conn, today=today, now=now)
            overdue = await rectification.sweep_overdue(
                conn, today=today, now=now, alarm_rules=ctx.policies.monitoring.rules
            )
        log.info(
            "reminders: %d sent, %d enterprises skipped; %d outcomes lapsed, %d orders overdue",
            len(sent),
            len(problems.found),
            len(lapsed),
            len(overdue),
        )
    except Exception:
        log.exception("reminders job failed")
        raise


def register(scheduler: Any) -> None:
    """Daily at the policy's hour (bureau time), and catch up a missed day."""
    ctx = current()
    hour, minute = ctx.policies.reminders.run_at.split(":")
    scheduler.add_job(
        "scheduler.jobs_reminders:reminders",
        "cron",
        hour=int(hour),
        minute=int(minute),
        id="reminders",
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=20 * 3600,
    )
