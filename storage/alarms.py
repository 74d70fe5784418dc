"""Alarms: raise/update (one open per key), clear, list, lifecycle and escalation writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from psycopg import AsyncConnection
from psycopg.rows import dict_row, kwargs_row

from domain.alarms import Alarm, AlarmState, RuleSpec
from domain.i18n import Message, render
from domain.monitoring import (
    AlarmClear,
    AlarmId,
    AlarmKey,
    AlarmRaise,
    EnterpriseId,
    RuleOutcome,
    Severity,
)
from storage.errors import amapped_errors
from storage.json_rows import rows_json
from storage.live import Change
from storage.rows import named_row

OPEN_OF = """
SELECT a.enterprise_id, a.rule, a.subject, a.severity, a.cleared
  FROM alarms a
  JOIN jsonb_to_recordset(%(rows)s::jsonb) AS k(ent text, rule text, subject text)
    ON a.enterprise_id = k.ent AND a.rule = k.rule AND a.subject = k.subject
 WHERE a.state <> 'closed'
"""
UPSERT = """
INSERT INTO alarms (enterprise_id, rule, subject, severity, message, message_code, message_params,
                    evidence, raised_at, last_seen_at, ack_due_at, occurrences)
SELECT ent, rule, subject, severity, message, code, params, evidence, %(now)s, %(now)s, due, n
  FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
       ent text, rule text, subject text, severity text, message text, code text, params jsonb,
       evidence jsonb, due timestamptz, n integer)
ON CONFLICT (enterprise_id, rule, subject) WHERE state <> 'closed' DO UPDATE SET
    last_seen_at = greatest(alarms.last_seen_at, EXCLUDED.last_seen_at),
    occurrences = alarms.occurrences + CASE WHEN %(repeat)s THEN EXCLUDED.occurrences ELSE 0 END,
    message = EXCLUDED.message,
    message_code = EXCLUDED.message_code,
    message_params = EXCLUDED.message_params,
    evidence = EXCLUDED.evidence,
    severity = CASE WHEN sw_severity_rank(EXCLUDED.severity) > alarms.severity_rank
                    THEN EXCLUDED.severity ELSE alarms.severity END,
    cleared = false,
    cleared_at = NULL
RETURNING id, enterprise_id, rule, subject, state, severity, occurrences
"""
CLEAR = """
UPDATE alarms a SET cleared = true, cleared_at = %(now)s
  FROM jsonb_to_recordset(%(rows)s::jsonb) AS k(ent text, rule text, subject text)
 WHERE a.enterprise_id = k.ent AND a.rule = k.rule AND a.subject = k.subject
   AND a.state <> 'closed' AND NOT a.cleared
RETURNING a.id, a.enterprise_id, a.rule, a.subject, a.severity, a.state
"""
GET = """
SELECT
id, enterprise_id, rule, subject, severity, state, message, evidence, raised_at, last_seen_at,
occurrences, cleared, cleared_at, ack_due_at, escalation_level, acked_by, acked_at, closed_by,
closed_at, cause_category, action_taken, message_code, message_params
 FROM alarms WHERE id = %(id)s
"""
GET_FOR_UPDATE = """
SELECT
id, enterprise_id, rule, subject, severity, state, message, evidence, raised_at, last_seen_at,
occurrences, cleared, cleared_at, ack_due_at, escalation_level, acked_by, acked_at, closed_by,
closed_at, cause_category, action_taken, message_code, message_params
 FROM alarms WHERE id = %(id)s FOR UPDATE
"""
LIST = """
SELECT
id, enterprise_id, rule, subject, severity, state, message, evidence, raised_at, last_seen_at,
occurrences, cleared, cleared_at, ack_due_at, escalation_level, acked_by, acked_at, closed_by,
closed_at, cause_category, action_taken, message_code, message_params
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
closed_at, cause_category, action_taken, message_code, message_params
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
SELECT severity, count(*) AS n FROM alarms WHERE state <> 'closed' GROUP BY severity
"""
OPEN_ALARMS = """
SELECT count(*) AS n, max(severity_rank) AS top_rank
  FROM alarms WHERE enterprise_id = %(ent)s AND state <> 'closed'
"""
CLOSE_RESOLVED = """
UPDATE alarms SET state = 'closed', cleared = true, cleared_at = coalesce(cleared_at, %(now)s),
       acked_by = coalesce(acked_by, %(by)s), acked_at = coalesce(acked_at, %(now)s),
       closed_by = %(by)s, closed_at = %(now)s, cause_category = %(cause)s,
       action_taken = %(text)s
 WHERE enterprise_id = %(ent)s AND rule = %(rule)s AND subject = %(subject)s
   AND state <> 'closed'
RETURNING id, severity
"""


class _Before(NamedTuple):
    enterprise_id: str
    rule: str
    subject: str
    severity: str
    cleared: bool


class _Raised(NamedTuple):
    id: int
    enterprise_id: EnterpriseId
    rule: str
    subject: str
    state: str
    severity: str
    occurrences: int


class _Cleared(NamedTuple):
    id: int
    enterprise_id: str
    rule: str
    subject: str
    severity: str
    state: str


class _Subject(NamedTuple):
    enterprise_id: str
    subject: str


class _Count(NamedTuple):
    severity: str
    n: int


class _OpenAlarms(NamedTuple):
    n: int
    top_rank: int | None


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
    *,
    outcome: RuleOutcome,
    rules: Mapping[str, RuleSpec],
    now: datetime,
    repeat: bool = True,
    live_out: list[Change],
) -> list[int]:
    """Raise and clear alarms; the live changes for new, re-raised, more severe or cleared ones
    are appended to `live_out` (the caller announces them: services.alarms.apply_outcome, or
    the ingest's batch in one statement).

    `repeat=False` (periodic checks) keeps an open alarm's occurrence count unchanged.
    Returns the ids of the alarms that changed.
    """
    if not outcome.actions:
        return []
    raises, clears = _plan(outcome)
    changed: list[int] = []
    changes: list[Change] = []
    if raises:
        rows = []
        for r, n in raises.values():
            spec = rules[r.key.rule]
            evidence = dict(r.evidence)
            if r.at is not None:
                evidence.setdefault("observed_at", r.at.isoformat())
            rows.append(
                {
                    "ent": r.key.enterprise_id,
                    "rule": r.key.rule,
                    "subject": r.key.subject,
                    "severity": (r.severity or spec.severity).value,
                    "message": render(r.message),
                    "code": r.message.code,
                    "params": dict(r.message.params),
                    "evidence": evidence,
                    "due": now + spec.ack_within,
                    "n": n,
                }
            )
        param = rows_json(rows)
        async with amapped_errors():
            async with conn.cursor(row_factory=named_row(_Before)) as cur:
                await cur.execute(OPEN_OF, {"rows": param})
                before = {
                    (str(b.enterprise_id), str(b.rule), str(b.subject)): (
                        str(b.severity),
                        bool(b.cleared),
                    )
                    for b in await cur.fetchall()
                }
            async with conn.cursor(row_factory=named_row(_Raised)) as cur:
                await cur.execute(UPSERT, {"rows": param, "now": now, "repeat": repeat})
                returned = await cur.fetchall()
        messages = {
            (r.key.enterprise_id, r.key.rule, r.key.subject): r.message for r, _ in raises.values()
        }
        for a in returned:
            prev = before.get((a.enterprise_id, a.rule, a.subject))
            if prev is None or prev[1] or prev[0] != a.severity:
                changed.append(int(a.id))
                payload = {
                    "id": int(a.id),
                    "change": "raised" if prev is None else "updated",
                    "rule": a.rule,
                    "subject": a.subject,
                    "severity": a.severity,
                    "state": a.state,
                    **_message_fields(messages.get((a.enterprise_id, a.rule, a.subject))),
                    "occurrences": a.occurrences,
                }
                changes.append(("alarm", a.enterprise_id, payload))
    if clears:
        keys = [
            {"ent": c.key.enterprise_id, "rule": c.key.rule, "subject": c.key.subject}
            for c in clears
        ]
        async with amapped_errors(), conn.cursor(row_factory=named_row(_Cleared)) as cur:
            await cur.execute(CLEAR, {"rows": rows_json(keys), "now": now})
            cleared = await cur.fetchall()
        for c in cleared:
            changed.append(int(c.id))
            payload = {
                "id": int(c.id),
                "change": "cleared",
                "rule": c.rule,
                "subject": c.subject,
                "severity": c.severity,
                "state": c.state,
            }
            changes.append(("alarm", c.enterprise_id, payload))
    live_out.extend(changes)
    return changed


async def get(
    conn: AsyncConnection[Any], *, alarm_id: int, for_update: bool = False
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


async def save_lifecycle(conn: AsyncConnection[Any], *, alarm: Alarm) -> None:
    """Persist an acknowledgement or a close (services.alarms announces it)."""
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


async def due_for_escalation(
    conn: AsyncConnection[Any], *, now: datetime, limit: int = 200
) -> list[Alarm]:
    """Active alarms past their acknowledgement deadline, locked (skipping locked ones)."""
    async with amapped_errors(), conn.cursor(row_factory=kwargs_row(_to_alarm)) as cur:
        await cur.execute(DUE, {"now": now, "limit": limit})
        return await cur.fetchall()


async def save_escalation(conn: AsyncConnection[Any], *, alarm: Alarm, now: datetime) -> None:
    """Persist an escalation (or just the next deadline); services.alarms announces it."""
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


async def open_subjects(conn: AsyncConnection[Any], *, rule: str) -> set[tuple[EnterpriseId, str]]:
    """(enterprise, subject) of the open, uncleared alarms of one rule."""
    async with amapped_errors(), conn.cursor(row_factory=named_row(_Subject)) as cur:
        await cur.execute(OPEN_KEYS, {"rule": rule})
        rows = await cur.fetchall()
    return {(EnterpriseId(r.enterprise_id), str(r.subject)) for r in rows}


async def count_open_by_severity(conn: AsyncConnection[Any]) -> dict[str, int]:
    """Open alarms per severity."""
    async with amapped_errors(), conn.cursor(row_factory=named_row(_Count)) as cur:
        await cur.execute(COUNT_OPEN)
        rows = await cur.fetchall()
    return {str(r.severity): int(r.n) for r in rows}


def _message_fields(message: Message | None) -> dict[str, Any]:
    if message is None:
        return {"message": ""}
    return {
        "message": render(message),
        "message_code": message.code,
        "message_params": dict(message.params),
    }


def alarm_id(value: int) -> AlarmId:
    """Typed alarm id."""
    return AlarmId(value)


async def open_alarms(conn: AsyncConnection[Any], *, ent: str) -> tuple[int, int | None]:
    """(count, highest severity rank) of an enterprise's open alarms."""
    async with amapped_errors(), conn.cursor(row_factory=named_row(_OpenAlarms)) as cur:
        await cur.execute(OPEN_ALARMS, {"ent": ent})
        row = await cur.fetchone()
    assert row is not None
    return int(row.n), (int(row.top_rank) if row.top_rank is not None else None)


async def close_resolved(
    conn: AsyncConnection[Any],
    *,
    ent: str,
    rule: str,
    subject: str,
    now: datetime,
    by: str,
    cause: str,
    text: str,
) -> list[Change]:
    """Close the open alarm of a key whose cause went away (by the system); the live changes
    to announce (none when no alarm of that key is open)."""
    params = {"ent": ent, "rule": rule, "subject": subject, "now": now, "by": by}
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(CLOSE_RESOLVED, params | {"cause": cause, "text": text})
        closed = await cur.fetchall()
    return [
        (
            "alarm",
            ent,
            {
                "id": int(row["id"]),
                "change": "closed",
                "rule": rule,
                "subject": subject,
                "severity": str(row["severity"]),
                "state": "closed",
                "reason": text,
            },
        )
        for row in closed
    ]
