"""Special operations and their gas analyses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from psycopg import AsyncConnection
from psycopg.rows import class_row, scalar_row

from domain.monitoring import EnterpriseId, OpId
from domain.special_ops import GasReading, OpState, OpType, SpecialOp
from storage.errors import amapped_errors
from storage.json_rows import rows_json
from storage.locking import lock_pairs
from storage.rows import named_row

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
SELECT op_type, coalesce(grade, '') AS grade, count(*) AS n FROM special_operations
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


class _OpRow(NamedTuple):
    enterprise_id: str
    op_id: str
    op_type: str
    grade: str | None
    permit_no: str
    valid_from: datetime
    valid_to: datetime
    location: str
    guardian: str | None
    state: str
    started_at: datetime
    paused_at: datetime | None
    ended_at: datetime | None
    last_gas_test_at: datetime | None
    needs_retest: bool | None
    interruptions: int
    last_reading_at: datetime | None
    reported_grade: str | None
    oxygen_enriched: bool | None
    guardian_cert: str | None
    camera: str | None
    serves_op: str | None


class _LatestTest(NamedTuple):
    enterprise_id: str
    op_id: str
    ts: datetime
    o2_pct: float | None
    lel_pct: float | None
    toxic_ppm: dict[str, float] | None
    combustible_vol_pct: float | None
    lel_vol_pct: float | None
    analyst: str | None
    gas: str | None


class _TypeCount(NamedTuple):
    op_type: str
    grade: str
    n: int


_OP_ROW = named_row(_OpRow)


def _op(r: _OpRow) -> SpecialOp:
    return SpecialOp(
        enterprise_id=EnterpriseId(r.enterprise_id),
        op_id=OpId(r.op_id),
        op_type=OpType(r.op_type),
        grade=r.grade,
        permit_no=r.permit_no,
        valid_from=r.valid_from,
        valid_to=r.valid_to,
        location=r.location,
        guardian=r.guardian,
        state=OpState(r.state),
        started_at=r.started_at,
        paused_at=r.paused_at,
        ended_at=r.ended_at,
        last_gas_test_at=r.last_gas_test_at,
        needs_retest=bool(r.needs_retest),
        interruptions=int(r.interruptions),
        last_reading_at=r.last_reading_at,
        reported_grade=r.reported_grade,
        oxygen_enriched=bool(r.oxygen_enriched),
        guardian_cert=r.guardian_cert,
        camera=r.camera,
        serves_op=None if r.serves_op is None else OpId(r.serves_op),
    )


async def lock_ops(
    conn: AsyncConnection[Any], *, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], SpecialOp]:
    """The operations with these (enterprise, op id) keys, locked."""
    rows = await lock_pairs(conn, statement=LOCK_OPS, keys=keys, row=_OP_ROW)
    return {(r.enterprise_id, r.op_id): _op(r) for r in rows}


async def open_ops(conn: AsyncConnection[Any], *, ent: str | None = None) -> list[SpecialOp]:
    """Operations not ended (of one enterprise, or all)."""
    async with amapped_errors(), conn.cursor(row_factory=_OP_ROW) as cur:
        await cur.execute(OPEN_OPS, {"ents": None if ent is None else [ent]})
        rows = await cur.fetchall()
    return [_op(r) for r in rows]


async def enterprises_with_open_ops(conn: AsyncConnection[Any]) -> list[str]:
    """Credit codes of enterprises with an operation not ended."""
    async with amapped_errors(), conn.cursor(row_factory=scalar_row) as cur:
        await cur.execute(ENTERPRISES_WITH_OPEN_OPS)
        return list(await cur.fetchall())


async def open_ops_of(conn: AsyncConnection[Any], *, ents: Sequence[str]) -> list[SpecialOp]:
    """Operations not ended of these enterprises."""
    if not ents:
        return []
    async with amapped_errors(), conn.cursor(row_factory=_OP_ROW) as cur:
        await cur.execute(OPEN_OPS, {"ents": sorted(set(ents))})
        rows = await cur.fetchall()
    return [_op(r) for r in rows]


async def live_video_enterprises(
    conn: AsyncConnection[Any], *, ents: Sequence[str] | None = None
) -> set[str]:
    """Enterprises with a live video session (of these, or of all)."""
    params = {"ents": None if ents is None else sorted(set(ents))}
    async with amapped_errors(), conn.cursor(row_factory=scalar_row) as cur:
        await cur.execute(LIVE_VIDEO_ENTERPRISES, params)
        return {str(ent) for ent in await cur.fetchall()}


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
    async with amapped_errors(), conn.cursor(row_factory=named_row(_LatestTest)) as cur:
        await cur.execute(LATEST_TESTS, {"ents": [k[0] for k in uniq], "ids": [k[1] for k in uniq]})
        rows = await cur.fetchall()
    return {
        (r.enterprise_id, r.op_id): GasReading(
            ts=r.ts,
            o2_pct=r.o2_pct,
            lel_pct=r.lel_pct,
            toxic_ppm=r.toxic_ppm,
            combustible_vol_pct=r.combustible_vol_pct,
            lel_vol_pct=r.lel_vol_pct,
            analyst=r.analyst,
            gas=r.gas,
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
    async with amapped_errors(), conn.cursor(row_factory=class_row(StoredTest)) as cur:
        await cur.execute(TESTS_OF, {"ent": ent, "op_id": op_id})
        return await cur.fetchall()


async def count_open_by_type(conn: AsyncConnection[Any]) -> dict[str, dict[str, int]]:
    """Open operations per type and grade ('' for none)."""
    async with amapped_errors(), conn.cursor(row_factory=named_row(_TypeCount)) as cur:
        await cur.execute(COUNT_OPEN_BY_TYPE)
        rows = await cur.fetchall()
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        out.setdefault(str(r.op_type), {})[str(r.grade)] = int(r.n)
    return out
