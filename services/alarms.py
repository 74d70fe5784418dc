"""Alarm handling by duty staff: acknowledge (stops escalation) and close (cause and action)."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from domain import alarms as rules
from domain.alarms import Alarm
from domain.clock import utcnow
from services.changes import Actor, Audit, Change, record
from storage import alarms


def _change(alarm: Alarm) -> Change:
    return (
        "alarm",
        alarm.enterprise_id,
        {
            "id": alarm.id,
            "change": alarm.state.value,
            "rule": alarm.rule,
            "subject": alarm.subject,
            "severity": alarm.severity.value,
            "state": alarm.state.value,
        },
    )


async def acknowledge(
    conn: AsyncConnection[Any], *, before: Alarm, note: str | None, actor: Actor
) -> Alarm:
    """Acknowledge an active alarm (`before`, loaded locked by the caller)."""
    assert actor.principal is not None, "an alarm is acknowledged by a person"
    after = rules.acknowledge(before, by=actor.principal.username, at=utcnow())
    await alarms.save_lifecycle(conn, after)
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            "alarm.ack",
            f"alarm:{before.id}",
            before={"state": before.state.value},
            after={"state": after.state.value, "note": note},
        ),
        changes=[_change(after)],
    )
    return after


async def close(
    conn: AsyncConnection[Any],
    *,
    before: Alarm,
    cause_category: str,
    action_taken: str,
    causes: frozenset[str],
    actor: Actor,
) -> Alarm:
    """Close an alarm with its cause category (one of `causes`) and the action taken."""
    assert actor.principal is not None, "an alarm is closed by a person"
    after = rules.close(
        before,
        by=actor.principal.username,
        at=utcnow(),
        cause_category=cause_category,
        action_taken=action_taken,
        causes=causes,
    )
    await alarms.save_lifecycle(conn, after)
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            "alarm.close",
            f"alarm:{before.id}",
            before={"state": before.state.value},
            after={
                "state": after.state.value,
                "cause_category": after.cause_category,
                "action_taken": after.action_taken,
            },
        ),
        changes=[_change(after)],
    )
    return after
