"""Sending a reminder once: stored, announced, and — when it concerns an enterprise's own
obligation (licence renewal, rectification deadline) — a notice on MQTT `…/notice` and in the
enterprise's inbox (the same downlink, acknowledged from either)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection

from domain.reminders import Reminder
from services.changes import Change, announce
from services.downlinks import live_payload
from storage import downlinks, enforcement

#: Reminders addressed to the enterprise (penalty publication reminders are for staff only).
TO_ENTERPRISE = frozenset({"licence_expiry", "rectification_deadline"})
#: Who a reminder notice is from (the `from` field on `…/notice`).
SENDER = "system:reminders"


async def send(
    conn: AsyncConnection[Any], *, reminder: Reminder, now: datetime, notice_life: timedelta
) -> int | None:
    """Store and deliver one reminder; None when it was sent before (its identity is kind,
    subject, due date and stage, so a restarted scheduler never sends it twice)."""
    reminder_id = await enforcement.record_reminder(conn, reminder=reminder)
    if reminder_id is None:
        return None
    ent = reminder.enterprise_id
    changes: list[Change] = [
        ("reminder", ent, {"id": reminder_id, **asdict(reminder), "due": reminder.due.isoformat()})
    ]
    if ent is not None and reminder.kind in TO_ENTERPRISE:
        d = await downlinks.create(
            conn,
            channel="notice",
            ent=ent,
            kind=reminder.kind,
            text=reminder.text,
            extra={
                "reminder_id": reminder_id,
                "stage": reminder.stage,
                "due": reminder.due.isoformat(),
                "subject": reminder.subject,
            },
            sender=SENDER,
            requires_ack=True,
            expires_at=now + notice_life,
            now=now,
        )
        changes.append(("guidance", ent, live_payload(d, "created")))
    await announce(conn, changes=changes)
    return reminder_id
