"""Daily reminders: licence renewals, rectification deadlines, end of penalty publication."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from psycopg import AsyncConnection

from config.policy_enforcement import ReminderPolicy
from domain import reminders as rules
from domain.clock import utcnow
from scheduler.context import current
from services.changes import SYSTEM, Audit, announce, record
from storage import enforcement

log = logging.getLogger(__name__)


async def send_due_reminders(
    conn: AsyncConnection[Any], *, today: date, now: datetime, policy: ReminderPolicy
) -> list[rules.Reminder]:
    """Record every reminder due today that was not sent before; withdraw expired penalties."""
    due: list[rules.Reminder] = []
    for code, licences in await enforcement.licences(conn):
        due += rules.licence_reminders(code, licences, today=today, offsets=policy.licence_expiry)
    findings = await enforcement.open_findings_due(
        conn, until=rules.window_end(today, policy.rectification_deadline)
    )
    due += rules.rectification_reminders(
        findings, today=today, offsets=policy.rectification_deadline
    )
    penalties = await enforcement.penalties_due(
        conn, until=rules.window_end(today, policy.penalty_expiry)
    )
    due += rules.penalty_reminders(penalties, today=today, offsets=policy.penalty_expiry)
    sent = []
    for reminder in due:
        reminder_id = await enforcement.record_reminder(conn, reminder)
        if reminder_id is None:
            continue
        sent.append(reminder)
        await announce(
            conn,
            changes=[
                (
                    "reminder",
                    reminder.enterprise_id,
                    {"id": reminder_id, **asdict(reminder), "due": reminder.due.isoformat()},
                )
            ],
        )
    withdrawn = rules.expired(penalties, today=today)
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
    return sent


async def reminders() -> None:
    """The scheduled job: today's reminders in the bureau's time zone."""
    ctx = current()
    now = utcnow()
    try:
        policy = ctx.policies.reminders
        async with ctx.pool.connection() as conn:
            sent = await send_due_reminders(
                conn, today=now.astimezone(ctx.settings.tz).date(), now=now, policy=policy
            )
        log.info("reminders: %d sent", len(sent))
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
