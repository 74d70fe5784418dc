"""Special operations and their gas analyses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from domain.monitoring import EnterpriseId, OpId
from domain.special_ops import GasReading, OpState, OpType, SpecialOp
from storage.errors import amapped_errors
from storage.json_rows import rows_json
from storage.locking import lock_pairs

LOCK_OPS = """
SELECT
enterprise_id, op_id, op_type, grade, permit_no, valid_from, valid_to, location, guardian, state,
started_at, paused_at, ended_at, last_gas_test_at, needs_retest, interruptions, last_reading_at,
reported_grade, oxygen_enriched, guardian_cert, camera, serves_op
 FROM special_operations o
  JOIN unnest(%(ents)b::text[], %(keys)b::text[]) AS u(enterprise_id, op_id)
 USING (enterprise_id, op_id)
 ORDER BY enterprise_id, op_id FOR UPDATE OF o
"""
OPEN_OPS = """
SELECT
enterprise_id, op_id, op_type, grade, permit_no, valid_from, valid_to, location, guardian, state,
started_at, paused_at, ended_at, last_gas_test_at, needs_retest, interruptions, last_reading_at,
reported_grade, oxygen_enriched, guardian_cert, camera, serves_op
 FROM special_operations
 WHERE state <> 'ended' AND (%(ents)s::text[] IS NULL OR enterprise_id = ANY(%(ents)s))
 ORDER BY enterprise_id, started_at
"""
ENTERPRISES_WITH_OPEN_OPS = """
SELECT DISTINCT enterprise_id FROM special_operations WHERE state <> 'ended' ORDER BY 1
"""
UPSERT_OP = """
INSERT INTO special_operations (enterprise_id, op_id, op_type, grade, permit_no, valid_from,
       valid_to, location, guardian, state, started_at, paused_at, ended_at, last_gas_test_at,
       needs_retest, interruptions, last_reading_at, reported_grade, oxygen_enriched,
       guardian_cert, camera, serves_op)
SELECT * FROM unnest(%(enterprise_id)b::text[], %(op_id)b::text[], %(op_type)b::text[],
       %(grade)b::text[], %(permit_no)b::text[], %(valid_from)b::timestamptz[],
       %(valid_to)b::timestamptz[], %(location)b::text[], %(guardian)b::text[],
       %(state)b::text[], %(started_at)b::timestamptz[], %(paused_at)b::timestamptz[],
       %(ended_at)b::timestamptz[], %(last_gas_test_at)b::timestamptz[],
       %(needs_retest)b::bool[], %(interruptions)b::int4[], %(last_reading_at)b::timestamptz[],
       %(reported_grade)b::text[], %(oxygen_enriched)b::bool[], %(guardian_cert)b::text[],
       %(camera)b::text[], %(serves_op)b::text[])
ON CONFLICT (enterprise_id, op_id) DO UPDATE SET op_type = EXCLUDED.op_type,
       grade = EXCLUDED.grade, permit_no = EXCLUDED.permit_no, valid_from = EXCLUDED.valid_from,
       valid_to = EXCLUDED.valid_to, location = EXCLUDED.location, guardian = EXCLUDED.guardian,
       state = EXCLUDED.state, started_at = EXCLUDED.started_at, paused_at = EXCLUDED.paused_at,
       ended_at = EXCLUDED.ended_at, last_gas_test_at = EXCLUDED.last_gas_test_at,
       needs_retest = EXCLUDED.needs_retest, interruptions = EXCLUDED.interruptions,
       last_reading_at = EXCLUDED.last_reading_at, reported_grade = EXCLUDED.reported_grade,
       oxygen_enriched = EXCLUDED.oxygen_enriched, guardian_cert = EXCLUDED.guardian_cert,
       camera = EXCLUDED.camera, serves_op = EXCLUDED.serves_op, updated_at = now()
"""
LATEST_TESTS = """
SELECT DISTINCT ON (t.enterprise_id, t.op_id) t.enterprise_id, t.op_id, t.ts, t.o2_pct,
       t.lel_pct, t.toxic_ppm, t.combustible_vol_pct, t.lel_vol_pct, t.analyst, t.gas
  FROM gas_tests t
  JOIN unnest(%(ents)b::text[], %(ids)b::text[]) AS u(enterprise_id, op_id)
 USING (enterprise_id, op_id)
 ORDER BY t.enterprise_id, t.op_id, t.ts DESC
"""
INSERT_TEST = """
INSERT INTO gas_tests (enterprise_id, op_id, ts, o2_pct, lel_pct, toxic_ppm, combustible_vol_pct,
                       lel_vol_pct, analyst, ok, problems, event_id, gas)
SELECT ent, op_id, ts, o2, lel, toxic, vol, lel_vol, analyst, ok, problems, event_id, gas
  FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
       ent text, op_id text, ts timestamptz, o2 float8, lel float8, toxic jsonb, vol float8,
       lel_vol float8, analyst text, ok boolean, problems text[], event_id text, gas text)
"""
TESTS_OF = """
SELECT ts, o2_pct, lel_pct, toxic_ppm, combustible_vol_pct, lel_vol_pct, analyst, ok, problems,
       gas
  FROM gas_tests WHERE enterprise_id = %(ent)s AND op_id = %(op_id)s ORDER BY ts DESC LIMIT 20
"""
LIVE_VIDEO_ENTERPRISES = """
SELECT DISTINCT enterprise_id FROM video_sessions
 WHERE state = 'live' AND (%(ents)s::text[] IS NULL OR enterprise_id = ANY(%(ents)s))
"""
COUNT_OPEN_BY_TYPE = """
SELECT op_type, coalesce(grade, ''), count(*) FROM special_operations
 WHERE state <> 'ended' GROUP BY 1, 2 ORDER BY 1, 2
"""


@dataclass(frozen=True, slots=True)
class StoredTest:
    """A stored gas analysis."""

    ts: datetime
    o2_pct: float | None
    lel_pct: float | None
    toxic_ppm: dict[str, float] | None
    combustible_vol_pct: float | None
    lel_vol_pct: float | None
    analyst: str | None
    ok: bool
    problems: list[str]
    gas: str | None = None


def _op(r: Sequence[Any]) -> SpecialOp:
    return SpecialOp(
        enterprise_id=EnterpriseId(r[0]),
        op_id=OpId(r[1]),
        op_type=OpType(r[2]),
        grade=r[3],
        permit_no=r[4],
        valid_from=r[5],
        valid_to=r[6],
        location=r[7],
        guardian=r[8],
        state=OpState(r[9]),
        started_at=r[10],
        paused_at=r[11],
        ended_at=r[12],
        last_gas_test_at=r[13],
        needs_retest=bool(r[14]),
        interruptions=int(r[15]),
        last_reading_at=r[16],
        reported_grade=r[17],
        oxygen_enriched=bool(r[18]),
        guardian_cert=r[19],
        camera=r[20],
        serves_op=None if r[21] is None else OpId(r[21]),
    )


async def lock_ops(
    conn: AsyncConnection[Any], *, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], SpecialOp]:
    """The operations with these (enterprise, op id) keys, locked."""
    return {(r[0], r[1]): _op(r) for r in await lock_pairs(conn, statement=LOCK_OPS, keys=keys)}


async def open_ops(conn: AsyncConnection[Any], *, ent: str | None = None) -> list[SpecialOp]:
    """Operations not ended (of one enterprise, or all)."""
    async with amapped_errors():
        rows = await (
            await conn.execute(OPEN_OPS, {"ents": None if ent is None else [ent]})
        ).fetchall()
    return [_op(r) for r in rows]


async def enterprises_with_open_ops(conn: AsyncConnection[Any]) -> list[str]:
    """Credit codes of enterprises with an operation not ended."""
    async with amapped_errors():
        rows = await (await conn.execute(ENTERPRISES_WITH_OPEN_OPS)).fetchall()
    return [r[0] for r in rows]


async def open_ops_of(conn: AsyncConnection[Any], *, ents: Sequence[str]) -> list[SpecialOp]:
    """Operations not ended of these enterprises."""
    if not ents:
        return []
    async with amapped_errors():
        rows = await (await conn.execute(OPEN_OPS, {"ents": sorted(set(ents))})).fetchall()
    return [_op(r) for r in rows]


async def live_video_enterprises(
    conn: AsyncConnection[Any], *, ents: Sequence[str] | None = None
) -> set[str]:
    """Enterprises with a live video session (of these, or of all)."""
    params = {"ents": None if ents is None else sorted(set(ents))}
    async with amapped_errors():
        rows = await (await conn.execute(LIVE_VIDEO_ENTERPRISES, params)).fetchall()
    return {str(r[0]) for r in rows}


#: Columns stored as the dataclass holds them (op_type and state are stored by value).
_PLAIN_COLUMNS = (
    "enterprise_id",
    "op_id",
    "grade",
    "permit_no",
    "valid_from",
    "valid_to",
    "location",
    "guardian",
    "started_at",
    "paused_at",
    "ended_at",
    "last_gas_test_at",
    "needs_retest",
    "interruptions",
    "last_reading_at",
    "reported_grade",
    "oxygen_enriched",
    "guardian_cert",
    "camera",
    "serves_op",
)


async def save_ops(conn: AsyncConnection[Any], *, ops: Sequence[SpecialOp]) -> None:
    """Insert or update operations (one statement, one binary array per column)."""
    if not ops:
        return
    params: dict[str, list[Any]] = {c: [getattr(o, c) for o in ops] for c in _PLAIN_COLUMNS}
    params["op_type"] = [o.op_type.value for o in ops]
    params["state"] = [o.state.value for o in ops]
    async with amapped_errors():
        await conn.execute(UPSERT_OP, params)


async def latest_tests(
    conn: AsyncConnection[Any], *, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], GasReading]:
    """The newest stored analysis of each (enterprise, op id)."""
    if not keys:
        return {}
    uniq = sorted(set(keys))
    async with amapped_errors():
        rows = await (
            await conn.execute(
                LATEST_TESTS, {"ents": [k[0] for k in uniq], "ids": [k[1] for k in uniq]}
            )
        ).fetchall()
    return {
        (r[0], r[1]): GasReading(
            ts=r[2],
            o2_pct=r[3],
            lel_pct=r[4],
            toxic_ppm=r[5],
            combustible_vol_pct=r[6],
            lel_vol_pct=r[7],
            analyst=r[8],
            gas=r[9],
        )
        for r in rows
    }


async def insert_tests(
    conn: AsyncConnection[Any],
    *,
    tests: Sequence[tuple[str, str, GasReading, list[str], str | None]],
) -> None:
    """Store analyses: (enterprise, op id, reading, problems, event id)."""
    if not tests:
        return
    params = [
        {
            "ent": ent,
            "op_id": op_id,
            "ts": r.ts,
            "o2": r.o2_pct,
            "lel": r.lel_pct,
            "toxic": dict(r.toxic_ppm) if r.toxic_ppm else None,
            "vol": r.combustible_vol_pct,
            "lel_vol": r.lel_vol_pct,
            "analyst": r.analyst,
            "gas": r.gas,
            "ok": not problems,
            "problems": problems,
            "event_id": event_id,
        }
        for ent, op_id, r, problems, event_id in tests
    ]
    async with amapped_errors():
        await conn.execute(INSERT_TEST, {"rows": rows_json(params)})


async def tests_of(conn: AsyncConnection[Any], *, ent: str, op_id: str) -> list[StoredTest]:
    """The latest analyses of one operation, newest first."""
    async with amapped_errors():
        rows = await (await conn.execute(TESTS_OF, {"ent": ent, "op_id": op_id})).fetchall()
    return [StoredTest(*r) for r in rows]


async def count_open_by_type(conn: AsyncConnection[Any]) -> dict[str, dict[str, int]]:
    """Open operations per type and grade ('' for none)."""
    async with amapped_errors():
        rows = await (await conn.execute(COUNT_OPEN_BY_TYPE)).fetchall()
    out: dict[str, dict[str, int]] = {}
    for op_type, grade, n in rows:
        out.setdefault(str(op_type), {})[str(grade)] = int(n)
    return out
