"""Event-time order per enterprise: the lock and key of the last applied event, the log a replay
reads, restart decisions, maintenance rows after a replay and the flags of late events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from psycopg import AsyncConnection
from psycopg.rows import class_row, scalar_row

from domain.monitoring import AlarmKey, EnterpriseId
from domain.replay import MaintenanceRecord, OrderKey
from storage.errors import amapped_errors
from storage.json_rows import rows_json
from storage.live import Change
from storage.rows import named_row

#: Who closes an alarm that a replay shows was caused by the wrong order.
SYSTEM_ACTOR = "system:event-order"

# The row lock that serialises one enterprise: two monitors never interleave its events.
# Sorted, so that two batches with overlapping enterprises cannot deadlock.
LOCK_ORDER = """
SELECT enterprise_id, order_ts, order_seq, order_event FROM enterprise_status
 WHERE enterprise_id = ANY(%(ents)b::text[])
 ORDER BY enterprise_id FOR UPDATE
"""
SAVE_ORDER = """
UPDATE enterprise_status s SET order_ts = u.ts, order_seq = u.seq, order_event = u.event_id
  FROM unnest(%(ents)b::text[], %(ts)b::timestamptz[], %(seq)b::int8[], %(ids)b::text[])
       AS u(enterprise_id, ts, seq, event_id)
 WHERE s.enterprise_id = u.enterprise_id
"""
LOG_OF = """
SELECT payload::text FROM events
 WHERE enterprise_id = %(ent)s AND order_flag IS DISTINCT FROM 'beyond_horizon'
 ORDER BY ts, event_id
"""
DECISIONS_OF = """
SELECT id, event_id AS request, decided_at AS at, state = 'approved' AS approved
  FROM restart_requests
 WHERE enterprise_id = %(ent)s AND state IN ('approved', 'rejected') AND decided_at IS NOT NULL
"""
FLAG_EVENTS = """
UPDATE events e SET order_flag = u.flag
  FROM unnest(%(ents)b::text[], %(ids)b::text[], %(ts)b::timestamptz[], %(flags)b::text[])
       AS u(enterprise_id, event_id, ts, flag)
 WHERE e.enterprise_id = u.enterprise_id AND e.event_id = u.event_id AND e.ts = u.ts
"""
WRITE_MAINTENANCE = """
INSERT INTO maintenance_jobs (enterprise_id, maint_id, scope, units, started_at, planned_end,
                              ended_at)
SELECT ent, maint_id, scope, units, started_at, planned_end, ended_at
  FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
       ent text, maint_id text, scope text, units text[], started_at timestamptz,
       planned_end timestamptz, ended_at timestamptz)
ON CONFLICT (enterprise_id, maint_id) DO UPDATE SET scope = EXCLUDED.scope,
       units = EXCLUDED.units, started_at = EXCLUDED.started_at,
       planned_end = EXCLUDED.planned_end, ended_at = EXCLUDED.ended_at
"""
CLOSE_SUPERSEDED = """
UPDATE alarms SET state = 'closed', cleared = true, cleared_at = coalesce(cleared_at, %(now)s),
       acked_by = coalesce(acked_by, %(by)s), acked_at = coalesce(acked_at, %(now)s),
       closed_by = %(by)s, closed_at = %(now)s, cause_category = %(cause)s,
       action_taken = %(text)s
 WHERE id = ANY(%(ids)s::bigint[]) AND state <> 'closed'
RETURNING id, enterprise_id, rule, subject, severity
"""
REVIVE_REQUEST = """
UPDATE restart_requests SET state = 'pending'
 WHERE enterprise_id = %(ent)s AND event_id = %(event_id)s AND state = 'superseded'
"""
# Alarms a replay closed as superseded are left out of the closed ones: a later replay that raises
# them again (another late event restored the order that raised them) opens them again.
ALARMS_OF = """
SELECT id, rule, subject, state, coalesce(evidence->>'observed_at', '') AS observed FROM alarms
 WHERE enterprise_id = %(ent)s AND rule = ANY(%(rules)s::text[])
   AND (state <> 'closed' OR closed_by <> %(system)s)
"""


@dataclass(frozen=True, slots=True)
class Decision:
    """A decided restart request."""

    id: int
    request: str
    at: datetime
    approved: bool


class _Order(NamedTuple):
    enterprise_id: str
    order_ts: datetime | None
    order_seq: int  # NULL only when order_ts is: SAVE_ORDER sets the three together
    order_event: str


class _StoredAlarm(NamedTuple):
    id: int
    rule: str
    subject: str
    state: str
    observed: str


class _Closed(NamedTuple):
    id: int
    enterprise_id: str
    rule: str
    subject: str
    severity: str


@dataclass(frozen=True, slots=True)
class StoredAlarms:
    """An enterprise's alarms as a replay sees them."""

    open_ids: dict[AlarmKey, int]
    closed_seen: set[tuple[AlarmKey, str]]


async def lock_order(
    conn: AsyncConnection[Any], *, ents: Sequence[str]
) -> dict[str, OrderKey | None]:
    """Lock the enterprises' status rows for this transaction; the key of each one's last event."""
    if not ents:
        return {}
    async with amapped_errors(), conn.cursor(row_factory=named_row(_Order)) as cur:
        await cur.execute(LOCK_ORDER, {"ents": sorted(set(ents))})
        rows = await cur.fetchall()
    return {
        str(r.enterprise_id): (r.order_ts, int(r.order_seq), str(r.order_event))
        if r.order_ts is not None
        else None
        for r in rows
    }


async def save_order(conn: AsyncConnection[Any], *, keys: Mapping[str, OrderKey]) -> None:
    """Record the key of the last event applied to each enterprise."""
    if not keys:
        return
    ents = sorted(keys)
    async with amapped_errors():
        await conn.execute(
            SAVE_ORDER,
            {
                "ents": ents,
                "ts": [keys[e][0] for e in ents],
                "seq": [keys[e][1] for e in ents],
                "ids": [keys[e][2] for e in ents],
            },
        )


async def log_of(conn: AsyncConnection[Any], *, ent: str) -> list[str]:
    """The stored payloads of an enterprise's events that a replay applies."""
    async with amapped_errors(), conn.cursor(row_factory=scalar_row) as cur:
        await cur.execute(LOG_OF, {"ent": ent})
        return [str(payload) for payload in await cur.fetchall()]


async def decisions_of(conn: AsyncConnection[Any], *, ent: str) -> list[Decision]:
    """Approved and rejected restart requests of an enterprise."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(Decision)) as cur:
        await cur.execute(DECISIONS_OF, {"ent": ent})
        return await cur.fetchall()


async def flag_events(
    conn: AsyncConnection[Any], *, flags: Sequence[tuple[str, str, datetime, str]]
) -> None:
    """Flag stored events as (enterprise, event id, ts, 'late' | 'beyond_horizon')."""
    if not flags:
        return
    async with amapped_errors():
        await conn.execute(
            FLAG_EVENTS,
            {
                "ents": [f[0] for f in flags],
                "ids": [f[1] for f in flags],
                "ts": [f[2] for f in flags],
                "flags": [f[3] for f in flags],
            },
        )


async def write_maintenance(
    conn: AsyncConnection[Any], *, ent: str, jobs: Mapping[str, MaintenanceRecord]
) -> None:
    """Write maintenance jobs as a replay left them (open or ended)."""
    if not jobs:
        return
    rows = [
        {
            "ent": ent,
            "maint_id": maint_id,
            "scope": r.job.scope.value,
            "units": list(r.job.units),
            "started_at": r.job.started_at,
            "planned_end": r.job.planned_end,
            "ended_at": r.ended_at,
        }
        for maint_id, r in sorted(jobs.items())
    ]
    async with amapped_errors():
        await conn.execute(WRITE_MAINTENANCE, {"rows": rows_json(rows)})


async def alarms_of(conn: AsyncConnection[Any], *, ent: str, rules: Sequence[str]) -> StoredAlarms:
    """Open alarms (by key) and observations a person closed, of an enterprise for some rules."""
    async with amapped_errors(), conn.cursor(row_factory=named_row(_StoredAlarm)) as cur:
        await cur.execute(ALARMS_OF, {"ent": ent, "rules": list(rules), "system": SYSTEM_ACTOR})
        rows = await cur.fetchall()
    open_ids: dict[AlarmKey, int] = {}
    closed: set[tuple[AlarmKey, str]] = set()
    for r in rows:
        key = AlarmKey(EnterpriseId(ent), str(r.rule), str(r.subject))
        if r.state == "closed":
            closed.add((key, str(r.observed)))
        else:
            open_ids[key] = int(r.id)
    return StoredAlarms(open_ids, closed)


async def close_superseded(
    conn: AsyncConnection[Any], *, ids: Sequence[int], now: datetime, cause: str, text: str
) -> list[Change]:
    """Close alarms a replay no longer raises; the live changes to announce."""
    if not ids:
        return []
    params = {"ids": list(ids), "now": now, "by": SYSTEM_ACTOR, "cause": cause, "text": text}
    async with amapped_errors(), conn.cursor(row_factory=named_row(_Closed)) as cur:
        await cur.execute(CLOSE_SUPERSEDED, params)
        rows = await cur.fetchall()
    return [
        (
            "alarm",
            str(r.enterprise_id),
            {
                "id": int(r.id),
                "change": "closed",
                "rule": str(r.rule),
                "subject": str(r.subject),
                "severity": str(r.severity),
                "state": "closed",
                "reason": text,
            },
        )
        for r in rows
    ]


async def revive_request(conn: AsyncConnection[Any], *, ent: str, event_id: str) -> None:
    """Make a request the wrong order had superseded pending again (event-time order keeps it)."""
    async with amapped_errors():
        await conn.execute(REVIVE_REQUEST, {"ent": ent, "event_id": event_id})
