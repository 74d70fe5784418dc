"""The EnterpriseStatus aggregate: `enterprise_status` rows (mode, presence, activity) and their
open `maintenance_jobs`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row, dict_row
from psycopg_pool import AsyncConnectionPool

from domain.monitoring import EnterpriseId
from domain.presence import Presence
from domain.status import EnterpriseStatus, Maintenance, Mode, OpenJobs, Scope
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
OPEN_MAINTENANCE_IDS = """
SELECT enterprise_id, maint_id FROM maintenance_jobs
 WHERE enterprise_id = ANY(%(ents)b::text[]) AND ended_at IS NULL
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
# `planned`: true for a planned stop, false for "online", NULL for a last will (keeps the flag).
SET_PRESENCE = """
INSERT INTO enterprise_status (enterprise_id, presence_online, presence_at, presence_planned_stop)
VALUES (%(ent)s, %(online)s, %(at)s, coalesce(%(planned)s::boolean, false))
ON CONFLICT (enterprise_id) DO UPDATE SET presence_online = EXCLUDED.presence_online,
       presence_at = EXCLUDED.presence_at,
       presence_planned_stop = coalesce(%(planned)s::boolean,
                                        enterprise_status.presence_planned_stop)
 WHERE enterprise_status.presence_at IS NULL
    OR enterprise_status.presence_at <= EXCLUDED.presence_at
"""
ALL_PRESENCE = """
SELECT enterprise_id, presence_online, presence_at, last_activity_at, presence_planned_stop
  FROM enterprise_status
"""
PRESENCE = """
SELECT presence_online, presence_at, last_activity_at FROM enterprise_status
 WHERE enterprise_id = %(ent)s
"""
TOUCH_ACTIVITY = """
INSERT INTO enterprise_status (enterprise_id, last_activity_at)
SELECT * FROM unnest(%(ents)b::text[], %(ts)b::timestamptz[])
ON CONFLICT (enterprise_id) DO UPDATE
   SET last_activity_at = greatest(enterprise_status.last_activity_at, EXCLUDED.last_activity_at)
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
class PresenceRow:
    """The presence columns of a status row."""

    presence_online: bool
    presence_at: datetime | None
    last_activity_at: datetime | None


def _status(row: dict[str, Any], maintenance: OpenJobs) -> EnterpriseStatus:
    return EnterpriseStatus(
        enterprise_id=EnterpriseId(row["enterprise_id"]),
        mode=Mode(row["mode"]),
        mode_since=row["mode_since"],
        shutdown_scope=Scope(row["shutdown_scope"]) if row["shutdown_scope"] else None,
        shutdown_units=tuple(row["shutdown_units"] or ()),
        shutdown_reason=row["shutdown_reason"],
        planned_resume=row["planned_resume"],
        restart_request=row["restart_request"],
        trial_id=row["trial_id"],
        trial_started_at=row["trial_started_at"],
        trial_planned_end=row["trial_planned_end"],
        maintenance=maintenance,
        last_event_at=row["last_event_at"],
    )


async def lock_statuses(
    conn: AsyncConnection[Any], *, ents: Sequence[str], lock: bool = True
) -> dict[EnterpriseId, EnterpriseStatus]:
    """Status of each enterprise that has a row, locked for this transaction unless `lock=False`."""
    if not ents:
        return {}
    params = {"ents": sorted(set(ents))}
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(LOCK_STATUS if lock else READ_STATUS, params)
        rows = await cur.fetchall()
        await cur.execute(OPEN_MAINTENANCE, params)
        jobs = await cur.fetchall()
    by_ent: dict[str, list[Maintenance]] = {}
    for j in jobs:
        by_ent.setdefault(j["enterprise_id"], []).append(
            Maintenance(
                maint_id=j["maint_id"],
                scope=Scope(j["scope"]),
                units=tuple(j["units"] or ()),
                started_at=j["started_at"],
                planned_end=j["planned_end"],
            )
        )
    return {
        EnterpriseId(r["enterprise_id"]): _status(r, OpenJobs(by_ent.get(r["enterprise_id"], ())))
        for r in rows
    }


async def open_maintenance_ids(
    conn: AsyncConnection[Any], *, ents: Sequence[str]
) -> dict[str, set[str]]:
    """The ids of each enterprise's open maintenance jobs (absent: none open)."""
    if not ents:
        return {}
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(OPEN_MAINTENANCE_IDS, {"ents": sorted(set(ents))})
        rows = await cur.fetchall()
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(str(r["enterprise_id"]), set()).add(str(r["maint_id"]))
    return out


async def save_statuses(
    conn: AsyncConnection[Any], *, statuses: Sequence[EnterpriseStatus]
) -> None:
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
    conn: AsyncConnection[Any], *, jobs: Sequence[tuple[str, Maintenance]]
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
    conn: AsyncConnection[Any], *, ends: Sequence[tuple[str, str, datetime]]
) -> None:
    """Close maintenance jobs: (enterprise, maint_id, ts)."""
    if not ends:
        return
    rows = [{"ent": e, "maint_id": m, "ts": ts} for e, m, ts in ends]
    async with amapped_errors():
        await conn.execute(END_MAINTENANCE, {"rows": rows_json(rows)})


async def set_presence(
    conn: AsyncConnection[Any],
    *,
    ent: str,
    online: bool,
    at: datetime,
    planned_stop: bool | None = None,
) -> None:
    """Record the site's reported presence (an older report never overwrites a newer one).
    `planned_stop`: True for a planned stop, False when online, None (a last will) keeps it."""
    async with amapped_errors():
        await conn.execute(
            SET_PRESENCE, {"ent": ent, "online": online, "at": at, "planned": planned_stop}
        )


async def all_presence(conn: AsyncConnection[Any]) -> dict[EnterpriseId, Presence]:
    """Presence of every monitored enterprise."""
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(ALL_PRESENCE)
        rows = await cur.fetchall()
    return {
        EnterpriseId(r["enterprise_id"]): Presence(
            reported_online=bool(r["presence_online"]),
            reported_at=r["presence_at"],
            last_activity_at=r["last_activity_at"],
            planned_stop=bool(r["presence_planned_stop"]),
        )
        for r in rows
    }


async def presence(conn: AsyncConnection[Any], *, ent: str) -> PresenceRow | None:
    """Presence of one enterprise (None if it never sent anything)."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(PresenceRow)) as cur:
        await cur.execute(PRESENCE, {"ent": ent})
        return await cur.fetchone()


async def presence_now(pool: AsyncConnectionPool, *, ent: str) -> PresenceRow | None:
    """Presence of one enterprise in one round trip: a single-row read needs no transaction,
    so the pooled connection runs it in autocommit (no BEGIN/COMMIT) and is handed back as
    it came."""
    async with pool.connection() as conn:
        await conn.set_autocommit(True)
        try:
            return await presence(conn, ent=ent)
        finally:
            await conn.set_autocommit(False)


async def touch_activity(
    conn: AsyncConnection[Any], *, activity: dict[str, datetime | None]
) -> None:
    """Create missing status rows and record the latest real activity (None: no activity)."""
    if not activity:
        return
    ents = sorted(activity)
    async with amapped_errors():
        await conn.execute(TOUCH_ACTIVITY, {"ents": ents, "ts": [activity[e] for e in ents]})


async def summary_counts(conn: AsyncConnection[Any], *, online_since: datetime) -> dict[str, int]:
    """Counts by status for the dashboard."""
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SUMMARY, {"since": online_since})
        row = await cur.fetchone() or {}
        await cur.execute(MAINTENANCE_SUMMARY)
        maint = await cur.fetchone() or {}
    out = {name: int(value or 0) for name, value in row.items()}
    out["maintenance_whole"] = int(maint.get("whole") or 0)
    out["maintenance_partial"] = int(maint.get("partial") or 0)
    return out


async def overdue_trials(conn: AsyncConnection[Any], *, now: datetime) -> list[EnterpriseStatus]:
    """Enterprises whose open trial production is past its planned end."""
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(OPEN_TRIALS, {"now": now})
        return [_status(r, OpenJobs()) for r in await cur.fetchall()]
