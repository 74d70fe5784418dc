"""Alarms: raise/update (one open per key), clear, list, lifecycle and escalation writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import kwargs_row
from psycopg.types.json import Jsonb

from domain.alarms import Alarm, AlarmState, RuleSpec
from domain.monitoring import (
    AlarmClear,
    AlarmId,
    AlarmKey,
    AlarmRaise,
    EnterpriseId,
    RuleOutcome,
    Severity,
)
from storage import live
from storage.errors import amapped_errors

UPSERT = """
WITH prev AS (
    SELECT severity, cleared FROM alarms
     WHERE enterprise_id = %(ent)s AND rule = %(rule)s AND subject = %(subject)s
       AND state <> 'closed'
)
INSERT INTO alarms (enterprise_id, rule, subject, severity, message, evidence, raised_at,
                    last_seen_at, ack_due_at, occurrences)
VALUES (%(ent)s, %(rule)s, %(subject)s, %(severity)s, %(message)s, %(evidence)s, %(now)s,
        %(now)s, %(due)s, greatest(%(bump)s, 1))
ON CONFLICT (enterprise_id, rule, subject) WHERE state <> 'closed' DO UPDATE SET
    last_seen_at = greatest(alarms.last_seen_at, EXCLUDED.last_seen_at),
    occurrences = alarms.occurrences + %(bump)s,
    message = EXCLUDED.message,
    evidence = EXCLUDED.evidence,
    severity = CASE WHEN sw_severity_rank(EXCLUDED.severity) > alarms.severity_rank
                    THEN EXCLUDED.severity ELSE alarms.severity END,
    cleared = false,
    cleared_at = NULL
RETURNING id, state, severity, occurrences,
          (SELECT p.severity FROM prev p) AS prev_severity,
          (SELECT p.cleared FROM prev p) AS prev_cleared
"""
CLEAR = """
UPDATE alarms SET cleared = true, cleared_at = %(now)s
 WHERE enterprise_id = %(ent)s AND rule = %(rule)s AND subject = %(subject)s
   AND state <> 'closed' AND NOT cleared
RETURNING id, severity, state
"""
GET = """
SELECT
id, enterprise_id, rule, subject, severity, state, message, evidence, raised_at, last_seen_at,
occurrences, cleared, cleared_at, ack_due_at, escalation_level, acked_by, acked_at, closed_by,
closed_at, cause_category, action_taken
 FROM alarms WHERE id = %(id)s
"""
GET_FOR_UPDATE = """
SELECT
id, enterprise_id, rule, subject, severity, state, message, evidence, raised_at, last_seen_at,
occurrences, cleared, cleared_at, ack_due_at, escalation_level, acked_by, acked_at, closed_by,
closed_at, cause_category, action_taken
 FROM alarms WHERE id = %(id)s FOR UPDATE
"""
LIST = """
SELECT
id, enterprise_id, rule, subject, severity, state, message, evidence, raised_at, last_seen_at,
occurrences, cleared, cleared_at, ack_due_at, escalation_level, acked_by, acked_at, closed_by,
closed_at, cause_category, action_taken
, count(*) OVER () AS total FROM alarms
 WHERE (%(state)s::text IS NULL OR state = %(state)s)
   AND (%(open)s::boolean IS NULL OR (state <> 'closed') = %(open)s)
   AND (%(severity)s::text IS NULL OR severity = %(severity)s)
   AND (%(ent)s::text IS NULL OR enterprise_id = %(ent)s)
   AND (%(rule)s::text IS NULL OR rule = %(rule)s)
 ORDER BY (state = 'closed'), severity_rank DESC, raised_at DESC, id DESC
 LIMIT %(limit)s OFFSET %(offset)s
"""
SAVE_LIFECYCLE = """
UPDATE alarms SET state = %(state)s, acked_by = %(acked_by)s, acked_at = %(acked_at)s,
       closed_by = %(closed_by)s, closed_at = %(closed_at)s,
       cause_category = %(cause_category)s, action_taken = %(action_taken)s
 WHERE id = %(id)s
"""
DUE = """
SELECT
id, enterprise_id, rule, subject, severity, state, message, evidence, raised_at, last_seen_at,
occurrences, cleared, cleared_at, ack_due_at, escalation_level, acked_by, acked_at, closed_by,
closed_at, cause_category, action_taken
 FROM alarms WHERE state = 'active' AND ack_due_at <= %(now)s
 ORDER BY ack_due_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED
"""
SAVE_ESCALATION = """
UPDATE alarms SET severity = %(severity)s, escalation_level = %(level)s, ack_due_at = %(due)s,
       last_notified_at = %(now)s
 WHERE id = %(id)s
"""
OPEN_KEYS = """
SELECT enterprise_id, subject FROM alarms
 WHERE rule = %(rule)s AND state <> 'closed' AND NOT cleared
"""
COUNT_OPEN = """
SELECT severity, count(*) FROM alarms WHERE state <> 'closed' GROUP BY severity
"""


def _to_alarm(**row: Any) -> Alarm:
    row.pop("total", None)
    row["severity"] = Severity(row["severity"])
    row["state"] = AlarmState(row["state"])
    return Alarm(**row)


@dataclass(frozen=True, slots=True)
class AlarmPage:
    """A page of alarms and the total count matching the filters."""

    items: list[Alarm]
    total: int


def _plan(outcome: RuleOutcome) -> tuple[dict[AlarmKey, tuple[AlarmRaise, int]], list[AlarmClear]]:
    """Reduce an ordered outcome to one raise (with its repeat count) and one clear per key.

    A raise resets `cleared`, a clear sets it, so only whether a key was raised at all and
    whether its last action was a clear matter.
    """
    raises: dict[AlarmKey, tuple[AlarmRaise, int]] = {}
    last: dict[AlarmKey, AlarmRaise | AlarmClear] = {}
    for action in outcome.actions:
        if isinstance(action, AlarmRaise):
            prev = raises.get(action.key)
            raises[action.key] = (action, (prev[1] if prev else 0) + 1)
        last[action.key] = action
    return raises, [a for a in last.values() if isinstance(a, AlarmClear)]


async def apply(
    conn: AsyncConnection[Any],
    outcome: RuleOutcome,
    *,
    rules: Mapping[str, RuleSpec],
    now: datetime,
    repeat: bool = True,
) -> list[int]:
    """Raise and clear alarms; push live changes for new, re-raised, more severe or cleared ones.

    `repeat=False` (periodic checks) keeps an open alarm's occurrence count unchanged.
    Returns the ids of the alarms that changed.
    """
    if not outcome.actions:
        return []
    raises, clears = _plan(outcome)
    changed: list[int] = []
    if raises:
        params = []
        for r, n in raises.values():
            spec = rules[r.key.rule]
            evidence = dict(r.evidence)
            if r.at is not None:
                evidence.setdefault("observed_at", r.at.isoformat())
            params.append(
                {
                    "ent": r.key.enterprise_id,
                    "rule": r.key.rule,
                    "subject": r.key.subject,
                    "severity": (r.severity or spec.severity).value,
                    "message": r.message,
                    "evidence": Jsonb(evidence),
                    "now": now,
                    "due": now + spec.ack_within,
                    "bump": n if repeat else 0,
                }
            )
        async with amapped_errors(), conn.cursor() as cur:
            await cur.executemany(UPSERT, params, returning=True)
            for r, _ in raises.values():
                row = await cur.fetchone()
                assert row is not None
                alarm_id, state, severity, occurrences, prev_sev, prev_cleared = row
                new = prev_sev is None
                if new or prev_cleared or prev_sev != severity:
                    changed.append(int(alarm_id))
                    await live.publish_change(
                        conn,
                        kind="alarm",
                        enterprise_id=r.key.enterprise_id,
                        payload={
                            "id": int(alarm_id),
                            "change": "raised" if new else "updated",
                            "rule": r.key.rule,
                            "subject": r.key.subject,
                            "severity": severity,
                            "state": state,
                            "message": r.message,
                            "occurrences": occurrences,
                        },
                    )
                cur.nextset()
    for c in clears:
        async with amapped_errors():
            cur2 = await conn.execute(
                CLEAR,
                {
                    "ent": c.key.enterprise_id,
                    "rule": c.key.rule,
                    "subject": c.key.subject,
                    "now": now,
                },
            )
            row = await cur2.fetchone()
        if row is not None:
            changed.append(int(row[0]))
            await live.publish_change(
                conn,
                kind="alarm",
                enterprise_id=c.key.enterprise_id,
                payload={
                    "id": int(row[0]),
                    "change": "cleared",
                    "rule": c.key.rule,
                    "subject": c.key.subject,
                    "severity": row[1],
                    "state": row[2],
                },
            )
    return changed


async def get(
    conn: AsyncConnection[Any], alarm_id: int, *, for_update: bool = False
) -> Alarm | None:
    """One alarm (locked for the transaction when `for_update`)."""
    async with amapped_errors(), conn.cursor(row_factory=kwargs_row(_to_alarm)) as cur:
        await cur.execute(GET_FOR_UPDATE if for_update else GET, {"id": alarm_id})
        return await cur.fetchone()


async def list_alarms(
    conn: AsyncConnection[Any],
    *,
    state: str | None = None,
    open_only: bool | None = None,
    severity: str | None = None,
    enterprise_id: str | None = None,
    rule: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> AlarmPage:
    """Alarms filtered, open ones first, most severe first."""
    params = {
        "state": state,
        "open": open_only,
        "severity": severity,
        "ent": enterprise_id,
        "rule": rule,
        "limit": limit,
        "offset": offset,
    }
    total = 0

    def build(**row: Any) -> Alarm:
        nonlocal total
        total = int(row["total"])
        return _to_alarm(**row)

    async with amapped_errors(), conn.cursor(row_factory=kwargs_row(build)) as cur:
        await cur.execute(LIST, params)
        items = await cur.fetchall()
    if not items and offset:
        async with amapped_errors(), conn.cursor(row_factory=kwargs_row(build)) as cur:
            await cur.execute(LIST, {**params, "limit": 1, "offset": 0})
            await cur.fetchall()
    return AlarmPage(items, total)


async def save_lifecycle(conn: AsyncConnection[Any], alarm: Alarm) -> None:
    """Persist an acknowledgement or a close and push it live."""
    async with amapped_errors():
        await conn.execute(
            SAVE_LIFECYCLE,
            {
                "id": alarm.id,
                "state": alarm.state.value,
                "acked_by": alarm.acked_by,
                "acked_at": alarm.acked_at,
                "closed_by": alarm.closed_by,
                "closed_at": alarm.closed_at,
                "cause_category": alarm.cause_category,
                "action_taken": alarm.action_taken,
            },
        )
    await live.publish_change(
        conn,
        kind="alarm",
        enterprise_id=alarm.enterprise_id,
        payload={
            "id": alarm.id,
            "change": alarm.state.value,
            "rule": alarm.rule,
            "subject": alarm.subject,
            "severity": alarm.severity.value,
            "state": alarm.state.value,
        },
    )


async def due_for_escalation(
    conn: AsyncConnection[Any], *, now: datetime, limit: int = 200
) -> list[Alarm]:
    """Active alarms past their acknowledgement deadline, locked (skipping locked ones)."""
    async with amapped_errors(), conn.cursor(row_factory=kwargs_row(_to_alarm)) as cur:
        await cur.execute(DUE, {"now": now, "limit": limit})
        return await cur.fetchall()


async def save_escalation(
    conn: AsyncConnection[Any], alarm: Alarm, *, now: datetime, escalated: bool
) -> None:
    """Persist an escalation (or just the next deadline) and notify duty staff again."""
    async with amapped_errors():
        await conn.execute(
            SAVE_ESCALATION,
            {
                "id": alarm.id,
                "severity": alarm.severity.value,
                "level": alarm.escalation_level,
                "due": alarm.ack_due_at,
                "now": now,
            },
        )
    await live.publish_change(
        conn,
        kind="alarm",
        enterprise_id=alarm.enterprise_id,
        payload={
            "id": alarm.id,
            "change": "escalated" if escalated else "reminder",
            "rule": alarm.rule,
            "subject": alarm.subject,
            "severity": alarm.severity.value,
            "state": alarm.state.value,
            "escalation_level": alarm.escalation_level,
            "message": alarm.message,
        },
    )


async def open_subjects(conn: AsyncConnection[Any], rule: str) -> set[tuple[EnterpriseId, str]]:
    """(enterprise, subject) of the open, uncleared alarms of one rule."""
    async with amapped_errors():
        rows = await (await conn.execute(OPEN_KEYS, {"rule": rule})).fetchall()
    return {(EnterpriseId(r[0]), str(r[1])) for r in rows}


async def count_open_by_severity(conn: AsyncConnection[Any]) -> dict[str, int]:
    """Open alarms per severity."""
    async with amapped_errors():
        rows = await (await conn.execute(COUNT_OPEN)).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def alarm_id(value: int) -> AlarmId:
    """Typed alarm id."""
    return AlarmId(value)
