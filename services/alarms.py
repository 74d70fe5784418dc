"""Alarms: raised and cleared by the rules (ingest, periodic checks), escalated when nobody
acknowledges them, acknowledged and closed by duty staff."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from domain import alarms as rules
from domain.alarms import Alarm, RuleSpec
from domain.clock import utcnow
from domain.monitoring import RuleOutcome
from services.changes import Actor, Audit, Change, announce, record
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
    await alarms.save_lifecycle(conn, alarm=after)
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
    await alarms.save_lifecycle(conn, alarm=after)
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


async def apply_outcome(
    conn: AsyncConnection[Any],
    outcome: RuleOutcome,
    *,
    rules: Mapping[str, RuleSpec],
    now: datetime,
    repeat: bool = True,
) -> list[int]:
    """Raise and clear the outcome's alarms and announce what changed, in the caller's
    transaction (or savepoint); the ids of the alarms that changed."""
    changes: list[Change] = []
    changed = await alarms.apply(
        conn, outcome=outcome, rules=rules, now=now, repeat=repeat, live_out=changes
    )
    await announce(conn, changes=changes)
    return changed


async def escalate(conn: AsyncConnection[Any], alarm: Alarm, spec: RuleSpec, now: datetime) -> None:
    """An unacknowledged alarm past its deadline: one colour up (or, at the limit, the same
    colour again later), and duty staff are notified again."""
    escalated = rules.escalation_due(alarm, spec, now)
    if escalated:
        alarm = rules.escalate(alarm, spec, now)
    else:  # at the escalation limit: keep reminding at the same pace
        alarm = replace(alarm, ack_due_at=now + spec.escalate_every)
    await alarms.save_escalation(conn, alarm=alarm, now=now)
    payload = {
        "id": alarm.id,
        "change": "escalated" if escalated else "reminder",
        "rule": alarm.rule,
        "subject": alarm.subject,
        "severity": alarm.severity.value,
        "state": alarm.state.value,
        "escalation_level": alarm.escalation_level,
        "message": alarm.message,
        "message_code": alarm.message_code,
        "message_params": alarm.message_params,
    }
    await announce(conn, changes=[("alarm", alarm.enterprise_id, payload)])
