"""Operation status, maintenance jobs, restart requests and presence of monitored enterprises."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

from domain.monitoring import EnterpriseId
from domain.presence import Presence
from domain.status import EnterpriseStatus, Maintenance, Mode, Scope
from storage.errors import amapped_errors
from storage.json_rows import rows_json

LOCK_STATUS = """
SELECT
enterprise_id, mode, mode_since, shutdown_scope, shutdown_units, shutdown_reason, planned_resume,
restart_request, trial_id, trial_started_at, trial_planned_end, last_event_at
 FROM enterprise_status WHERE enterprise_id = ANY(%(ents)b::text[])
 ORDER BY enterprise_id FOR UPDATE
"""
READ_STATUS = """
SELECT
enterprise_id, mode, mode_since, shutdown_scope, shutdown_units, shutdown_reason, planned_resume,
restart_request, trial_id, trial_started_at, trial_planned_end, last_event_at
 FROM enterprise_status WHERE enterprise_id = ANY(%(ents)b::text[])
 ORDER BY enterprise_id
"""
OPEN_MAINTENANCE = """
SELECT enterprise_id, maint_id, scope, units, started_at, planned_end FROM maintenance_jobs
 WHERE enterprise_id = ANY(%(ents)b::text[]) AND ended_at IS NULL ORDER BY started_at, maint_id
"""
SAVE_STATUS = """
UPDATE enterprise_status s SET mode = r.mode, mode_since = r.mode_since,
       shutdown_scope = r.shutdown_scope, shutdown_units = r.shutdown_units,
       shutdown_reason = r.shutdown_reason, planned_resume = r.planned_resume,
       restart_request = r.restart_request, trial_id = r.trial_id,
       trial_started_at = r.trial_started_at, trial_planned_end = r.trial_planned_end,
       last_event_at = r.last_event_at, updated_at = now()
  FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
       enterprise_id text, mode text, mode_since timestamptz, shutdown_scope text,
       shutdown_units text[], shutdown_reason text, planned_resume timestamptz,
       restart_request text, trial_id text, trial_started_at timestamptz,
       trial_planned_end timestamptz, last_event_at timestamptz)
 WHERE s.enterprise_id = r.enterprise_id
"""
UPSERT_MAINTENANCE = """
INSERT INTO maintenance_jobs (enterprise_id, maint_id, scope, units, started_at, planned_end)
SELECT ent, maint_id, scope, units, started_at, planned_end
  FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
       ent text, maint_id text, scope text, units text[], started_at timestamptz,
       planned_end timestamptz)
ON CONFLICT (enterprise_id, maint_id) DO UPDATE SET scope = EXCLUDED.scope,
       units = EXCLUDED.units, started_at = EXCLUDED.started_at,
       planned_end = EXCLUDED.planned_end, ended_at = NULL
"""
END_MAINTENANCE = """
UPDATE maintenance_jobs m SET ended_at = r.ts
  FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(ent text, maint_id text, ts timestamptz)
 WHERE m.enterprise_id = r.ent AND m.maint_id = r.maint_id AND m.ended_at IS NULL
"""
SET_PRESENCE = """
INSERT INTO enterprise_status (enterprise_id, presence_online, presence_at)
VALUES (%(ent)s, %(online)s, %(at)s)
ON CONFLICT (enterprise_id) DO UPDATE SET presence_online = EXCLUDED.presence_online,
       presence_at = EXCLUDED.presence_at
 WHERE enterprise_status.presence_at IS NULL
    OR enterprise_status.presence_at <= EXCLUDED.presence_at
"""
ALL_PRESENCE = """
SELECT enterprise_id, presence_online, presence_at, last_activity_at FROM enterprise_status
"""
INSERT_REQUEST = """
INSERT INTO restart_requests (enterprise_id, event_id, requested_at, planned_at, self_check,
                              failed_items)
SELECT ent, event_id, ts, planned_at, self_check, failed
  FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
       ent text, event_id text, ts timestamptz, planned_at timestamptz, self_check jsonb,
       failed integer)
ON CONFLICT (enterprise_id, event_id) DO NOTHING
RETURNING id, enterprise_id, event_id
"""
SUPERSEDE_ALL = """
UPDATE restart_requests q SET state = 'superseded'
  FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(ent text, keep text)
 WHERE q.enterprise_id = r.ent AND q.state = 'pending' AND q.event_id IS DISTINCT FROM r.keep
"""
GET_REQUEST = """
SELECT
id, enterprise_id, event_id, requested_at, planned_at, self_check, failed_items, state,
decided_by, decided_at, decision_reason, notice_id
 FROM restart_requests WHERE id = %(id)s FOR UPDATE
"""
LIST_REQUESTS = """
SELECT
id, enterprise_id, event_id, requested_at, planned_at, self_check, failed_items, state,
decided_by, decided_at, decision_reason, notice_id
, count(*) OVER () AS total FROM restart_requests
 WHERE (%(state)s::text IS NULL OR state = %(state)s)
   AND (%(ent)s::text IS NULL OR enterprise_id = %(ent)s)
 ORDER BY (state = 'pending') DESC, requested_at DESC
 LIMIT %(limit)s OFFSET %(offset)s
"""
DECIDE_REQUEST = """
UPDATE restart_requests SET state = %(state)s, decided_by = %(by)s, decided_at = %(at)s,
       decision_reason = %(reason)s, notice_id = %(notice_id)s
 WHERE id = %(id)s
"""
SUMMARY = """
SELECT
  count(*) AS monitored,
  count(*) FILTER (WHERE mode IN ('shutdown', 'restart_requested', 'restart_approved'))
      AS shutdown,
  count(*) FILTER (WHERE mode = 'restart_requested') AS restart_requested,
  count(*) FILTER (WHERE mode = 'restart_approved') AS restart_approved,
  count(*) FILTER (WHERE mode = 'trial_production' OR trial_id IS NOT NULL) AS trial,
  count(*) FILTER (WHERE presence_online AND last_activity_at >= %(since)s) AS online,
  count(*) FILTER (WHERE last_activity_at IS NULL OR last_activity_at < %(since)s) AS offline
  FROM enterprise_status
"""
MAINTENANCE_SUMMARY = """
SELECT count(DISTINCT enterprise_id) FILTER (WHERE scope = 'plant') AS whole,
       count(DISTINCT enterprise_id) FILTER (WHERE scope = 'unit') AS partial
  FROM maintenance_jobs WHERE ended_at IS NULL
"""
OPEN_TRIALS = """
SELECT
enterprise_id, mode, mode_since, shutdown_scope, shutdown_units, shutdown_reason, planned_resume,
restart_request, trial_id, trial_started_at, trial_planned_end, last_event_at
 FROM enterprise_status WHERE trial_id IS NOT NULL AND trial_planned_end < %(now)s
"""


@dataclass(frozen=True, slots=True)
class RestartRequest:
    """A stored restart request (复产申请) and its decision."""

    id: int
    enterprise_id: str
    event_id: str
    requested_at: datetime
    planned_at: datetime
    self_check: Any
    failed_items: int
    state: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    notice_id: int | None


def _status(row: Sequence[Any], maintenance: tuple[Maintenance, ...]) -> EnterpriseStatus:
    return EnterpriseStatus(
        enterprise_id=EnterpriseId(row[0]),
        mode=Mode(row[1]),
        mode_since=row[2],
        shutdown_scope=Scope(row[3]) if row[3] else None,
        shutdown_units=tuple(row[4] or ()),
        shutdown_reason=row[5],
        planned_resume=row[6],
        restart_request=row[7],
        trial_id=row[8],
        trial_started_at=row[9],
        trial_planned_end=row[10],
        maintenance=maintenance,
        last_event_at=row[11],
    )


async def lock_statuses(
    conn: AsyncConnection[Any], ents: Sequence[str], *, lock: bool = True
) -> dict[EnterpriseId, EnterpriseStatus]:
    """Status of each enterprise that has a row, locked for this transaction unless `lock=False`."""
    if not ents:
        return {}
    params = {"ents": sorted(set(ents))}
    async with amapped_errors():
        rows = await (await conn.execute(LOCK_STATUS if lock else READ_STATUS, params)).fetchall()
        jobs = await (await conn.execute(OPEN_MAINTENANCE, params)).fetchall()
    by_ent: dict[str, list[Maintenance]] = {}
    for j in jobs:
        by_ent.setdefault(j[0], []).append(
            Maintenance(j[1], Scope(j[2]), tuple(j[3] or ()), j[4], j[5])
        )
    return {EnterpriseId(r[0]): _status(r, tuple(by_ent.get(r[0], ()))) for r in rows}


async def save_statuses(conn: AsyncConnection[Any], statuses: Sequence[EnterpriseStatus]) -> None:
    """Write status rows (maintenance jobs are written separately)."""
    if not statuses:
        return
    rows = [
        {
            "enterprise_id": s.enterprise_id,
            "mode": s.mode.value,
            "mode_since": s.mode_since,
            "shutdown_scope": s.shutdown_scope.value if s.shutdown_scope else None,
            "shutdown_units": list(s.shutdown_units),
            "shutdown_reason": s.shutdown_reason,
            "planned_resume": s.planned_resume,
            "restart_request": s.restart_request,
            "trial_id": s.trial_id,
            "trial_started_at": s.trial_started_at,
            "trial_planned_end": s.trial_planned_end,
            "last_event_at": s.last_event_at,
        }
        for s in statuses
    ]
    async with amapped_errors():
        await conn.execute(SAVE_STATUS, {"rows": rows_json(rows)})


async def start_maintenance(
    conn: AsyncConnection[Any], jobs: Sequence[tuple[str, Maintenance]]
) -> None:
    """Open (or reopen) maintenance jobs (a job id appears at most once)."""
    if not jobs:
        return
    last = {(ent, m.maint_id): (ent, m) for ent, m in jobs}
    rows = [
        {
            "ent": ent,
            "maint_id": m.maint_id,
            "scope": m.scope.value,
            "units": list(m.units),
            "started_at": m.started_at,
            "planned_end": m.planned_end,
        }
        for ent, m in last.values()
    ]
    async with amapped_errors():
        await conn.execute(UPSERT_MAINTENANCE, {"rows": rows_json(rows)})


async def end_maintenance(
    conn: AsyncConnection[Any], ends: Sequence[tuple[str, str, datetime]]
) -> None:
    """Close maintenance jobs: (enterprise, maint_id, ts)."""
    if not ends:
        return
    rows = [{"ent": e, "maint_id": m, "ts": ts} for e, m, ts in ends]
    async with amapped_errors():
        await conn.execute(END_MAINTENANCE, {"rows": rows_json(rows)})


async def set_presence(conn: AsyncConnection[Any], ent: str, *, online: bool, at: datetime) -> None:
    """Record the site's reported presence (an older report never overwrites a newer one)."""
    async with amapped_errors():
        await conn.execute(SET_PRESENCE, {"ent": ent, "online": online, "at": at})


async def all_presence(conn: AsyncConnection[Any]) -> dict[EnterpriseId, Presence]:
    """Presence of every monitored enterprise."""
    async with amapped_errors():
        rows = await (await conn.execute(ALL_PRESENCE)).fetchall()
    return {EnterpriseId(r[0]): Presence(bool(r[1]), r[2], r[3]) for r in rows}


async def insert_requests(
    conn: AsyncConnection[Any], requests: Sequence[dict[str, Any]]
) -> list[int | None]:
    """Store restart requests (keys ent, event_id, ts, planned_at, self_check, failed); the new
    ids in order (None for one already stored). Supersede older ones with supersede_pending."""
    if not requests:
        return []
    async with amapped_errors():
        rows = await (await conn.execute(INSERT_REQUEST, {"rows": rows_json(requests)})).fetchall()
    ids = {(str(r[1]), str(r[2])): int(r[0]) for r in rows}
    return [ids.get((r["ent"], r["event_id"])) for r in requests]


async def supersede_pending(
    conn: AsyncConnection[Any], keep: dict[EnterpriseId, str | None]
) -> None:
    """Void pending restart requests of these enterprises except the one each still has."""
    if not keep:
        return
    rows = [{"ent": e, "keep": k} for e, k in sorted(keep.items())]
    async with amapped_errors():
        await conn.execute(SUPERSEDE_ALL, {"rows": rows_json(rows)})


async def get_request(conn: AsyncConnection[Any], request_id: int) -> RestartRequest | None:
    """One restart request, locked."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(RestartRequest)) as cur:
        await cur.execute(GET_REQUEST, {"id": request_id})
        return await cur.fetchone()


async def list_requests(
    conn: AsyncConnection[Any], *, state: str | None, ent: str | None, limit: int, offset: int
) -> tuple[list[RestartRequest], int]:
    """Restart requests, pending first, with the total count."""
    async with amapped_errors():
        rows = await (
            await conn.execute(
                LIST_REQUESTS, {"state": state, "ent": ent, "limit": limit, "offset": offset}
            )
        ).fetchall()
    total = int(rows[0][-1]) if rows else 0
    return [RestartRequest(*r[:-1]) for r in rows], total


async def decide_request(
    conn: AsyncConnection[Any],
    request_id: int,
    *,
    state: str,
    by: str,
    at: datetime,
    reason: str,
    notice_id: int | None,
) -> None:
    """Record the decision on a restart request."""
    async with amapped_errors():
        await conn.execute(
            DECIDE_REQUEST,
            {
                "id": request_id,
                "state": state,
                "by": by,
                "at": at,
                "reason": reason,
                "notice_id": notice_id,
            },
        )


async def summary_counts(conn: AsyncConnection[Any], *, online_since: datetime) -> dict[str, int]:
    """Counts by status for the dashboard."""
    async with amapped_errors(), conn.cursor() as cur:
        await cur.execute(SUMMARY, {"since": online_since})
        row = await cur.fetchone()
        names = [d.name for d in cur.description or ()]
        await cur.execute(MAINTENANCE_SUMMARY)
        maint = await cur.fetchone()
    out = {n: int(v or 0) for n, v in zip(names, row or (), strict=False)}
    out["maintenance_whole"] = int(maint[0]) if maint else 0
    out["maintenance_partial"] = int(maint[1]) if maint else 0
    return out


async def overdue_trials(conn: AsyncConnection[Any], *, now: datetime) -> list[EnterpriseStatus]:
    """Enterprises whose open trial production is past its planned end."""
    async with amapped_errors():
        rows = await (await conn.execute(OPEN_TRIALS, {"now": now})).fetchall()
    return [_status(r, ()) for r in rows]
