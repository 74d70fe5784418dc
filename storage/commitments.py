"""Daily risk commitments and the facts they are cross-checked against."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from domain.commitment import Actuals, Commitment
from domain.monitoring import EnterpriseId
from storage.errors import amapped_errors
from storage.rows import fetch_all

UPSERT = """
INSERT INTO commitments (enterprise_id, day, risk_level, committed_by, committed_at, payload)
VALUES (%(ent)s, %(day)s, %(risk_level)s, %(by)s, %(at)s, %(payload)s)
ON CONFLICT (enterprise_id, day) DO UPDATE SET risk_level = EXCLUDED.risk_level,
       committed_by = EXCLUDED.committed_by, committed_at = EXCLUDED.committed_at,
       payload = EXCLUDED.payload, received_at = now()
 WHERE commitments.committed_at <= EXCLUDED.committed_at
"""
GET = """
SELECT payload FROM commitments WHERE enterprise_id = ANY(%(ents)b::text[]) AND day = %(day)s
"""
OPS_STARTED = """
SELECT enterprise_id, op_type, grade, count(*) AS n FROM special_operations
 WHERE enterprise_id = ANY(%(ents)b::text[]) AND started_at >= %(lo)s AND started_at < %(hi)s
 GROUP BY enterprise_id, op_type, grade
"""
MAINT_STARTED = """
SELECT enterprise_id, count(*) AS n FROM maintenance_jobs
 WHERE enterprise_id = ANY(%(ents)b::text[]) AND started_at >= %(lo)s AND started_at < %(hi)s
 GROUP BY enterprise_id
"""
TRIALS = """
SELECT enterprise_id FROM enterprise_status
 WHERE enterprise_id = ANY(%(ents)b::text[]) AND trial_id IS NOT NULL
"""
STARTUP_SHUTDOWN = """
SELECT enterprise_id, count(*) AS n FROM events
 WHERE enterprise_id = ANY(%(ents)b::text[]) AND ts >= %(lo)s AND ts < %(hi)s
   AND type IN ('shutdown', 'resume')
 GROUP BY enterprise_id
"""
MISSING = """
SELECT s.enterprise_id FROM enterprise_status s
  JOIN enterprises e ON e.credit_code = s.enterprise_id AND NOT e.deregistered
 WHERE NOT EXISTS (SELECT 1 FROM commitments c
                    WHERE c.enterprise_id = s.enterprise_id AND c.day = %(day)s)
 ORDER BY s.enterprise_id
"""
LIST = """
SELECT payload FROM commitments WHERE enterprise_id = %(ent)s ORDER BY day DESC LIMIT %(limit)s
"""


def to_payload(c: Commitment) -> dict[str, Any]:
    """A commitment as stored (and as the API shows it)."""
    return {
        "enterprise_id": c.enterprise_id,
        "date": c.day.isoformat(),
        "units": {"total": c.units_total, "running": c.units_running, "stopped": c.units_stopped},
        "special_ops": [
            {"op_type": t, "grade": g, "count": n}
            for (t, g), n in sorted(
                c.special_ops.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
            )
        ],
        "maintenance": c.maintenance,
        "contractor_work": c.contractor_work,
        "trial_production": c.trial_production,
        "startup_shutdown": c.startup_shutdown,
        "risk_level": c.risk_level,
        "committed_by": c.committed_by,
        "committed_at": c.committed_at.isoformat(),
    }


def from_payload(p: dict[str, Any]) -> Commitment:
    """A stored commitment back as a domain object."""
    return Commitment(
        enterprise_id=EnterpriseId(p["enterprise_id"]),
        day=date.fromisoformat(p["date"]),
        units_total=int(p["units"]["total"]),
        units_running=int(p["units"]["running"]),
        units_stopped=int(p["units"]["stopped"]),
        special_ops={(o["op_type"], o["grade"]): int(o["count"]) for o in p["special_ops"]},
        maintenance=int(p["maintenance"]),
        contractor_work=int(p["contractor_work"]),
        trial_production=bool(p["trial_production"]),
        startup_shutdown=bool(p["startup_shutdown"]),
        risk_level=int(p["risk_level"]),
        committed_by=str(p["committed_by"]),
        committed_at=datetime.fromisoformat(p["committed_at"]),
    )


async def upsert(conn: AsyncConnection[Any], *, c: Commitment) -> None:
    """Store a commitment; a later one for the same day replaces it."""
    async with amapped_errors():
        await conn.execute(
            UPSERT,
            {
                "ent": c.enterprise_id,
                "day": c.day,
                "risk_level": c.risk_level,
                "by": c.committed_by,
                "at": c.committed_at,
                "payload": Jsonb(to_payload(c)),
            },
        )


async def for_day(
    conn: AsyncConnection[Any], *, ents: Sequence[str], day: date
) -> dict[EnterpriseId, Commitment]:
    """The commitments of these enterprises for one day."""
    if not ents:
        return {}
    rows = await fetch_all(conn, statement=GET, params={"ents": sorted(set(ents)), "day": day})
    out = {}
    for row in rows:
        c = from_payload(row["payload"])
        out[c.enterprise_id] = c
    return out


async def actuals(
    conn: AsyncConnection[Any], *, ents: Sequence[str], lo: datetime, hi: datetime
) -> dict[EnterpriseId, Actuals]:
    """What each enterprise reported between lo and hi (one bureau day)."""
    uniq = sorted(set(ents))
    params: dict[str, Any] = {"ents": uniq, "lo": lo, "hi": hi}
    ops: dict[str, dict[tuple[str, str | None], int]] = {}
    maint: dict[str, int] = {}
    ss: dict[str, int] = {}
    for r in await fetch_all(conn, statement=OPS_STARTED, params=params):
        ops.setdefault(r["enterprise_id"], {})[(r["op_type"], r["grade"])] = int(r["n"])
    for r in await fetch_all(conn, statement=MAINT_STARTED, params=params):
        maint[r["enterprise_id"]] = int(r["n"])
    trials = {r["enterprise_id"] for r in await fetch_all(conn, statement=TRIALS, params=params)}
    for r in await fetch_all(conn, statement=STARTUP_SHUTDOWN, params=params):
        ss[r["enterprise_id"]] = int(r["n"])
    return {
        EnterpriseId(e): Actuals(
            special_ops=ops.get(e, {}),
            maintenance_started=maint.get(e, 0),
            trial_open=e in trials,
            startup_shutdown_events=ss.get(e, 0),
        )
        for e in uniq
    }


async def missing_for_day(conn: AsyncConnection[Any], *, day: date) -> list[EnterpriseId]:
    """Monitored enterprises without a commitment for `day`."""
    rows = await fetch_all(conn, statement=MISSING, params={"day": day})
    return [EnterpriseId(r["enterprise_id"]) for r in rows]


async def recent(conn: AsyncConnection[Any], *, ent: str, limit: int = 7) -> list[dict[str, Any]]:
    """The latest commitments of one enterprise as stored."""
    rows = await fetch_all(conn, statement=LIST, params={"ent": ent, "limit": limit})
    return [dict(r["payload"]) for r in rows]
