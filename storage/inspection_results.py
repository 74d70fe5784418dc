"""What the API adds around draws and inspections: counts, completing a visit, public results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, LiteralString

from psycopg import AsyncConnection
from psycopg.rows import class_row

from storage.errors import amapped_errors
from storage.rows import fetch_one

COUNT_OFFICERS = """
SELECT count(*) AS n FROM officers
 WHERE (%(department)s::text IS NULL OR department = %(department)s)
   AND (%(active)s::boolean IS NULL OR active = %(active)s)
"""
COUNT_DRAWS = """
SELECT count(*) AS n FROM draws
 WHERE (%(state)s::text IS NULL OR state = %(state)s)
   AND (%(plan_id)s::text IS NULL OR plan_id = %(plan_id)s)
"""
OFFICER_NAMES = """
SELECT officer_id, name, certificate_no, department, auxiliary FROM officers
 WHERE officer_id = ANY(%(ids)s)
"""
COMPLETE = """
UPDATE inspections SET status = %(status)s, inspected_on = %(inspected_on)s
 WHERE id = %(id)s
RETURNING id
"""
RESULTS = """
SELECT i.id AS inspection_id, i.credit_code, e.name AS enterprise_name, e.county,
       i.source, i.draw_id, d.plan_id, d.period, i.inspected_on,
       count(f.id)::integer AS findings,
       count(f.id) FILTER (WHERE f.outcome = 'guidance')::integer AS guidance,
       count(f.id) FILTER (WHERE f.outcome = 'rectify')::integer AS rectify,
       count(f.id) FILTER (WHERE f.outcome = 'penalty_procedure')::integer AS penalty_procedure,
       count(f.id) FILTER (WHERE f.rectified_at IS NOT NULL)::integer AS rectified
  FROM inspections i
  JOIN enterprises e USING (credit_code)
  LEFT JOIN draws d ON d.id = i.draw_id
  LEFT JOIN findings f ON f.inspection_id = i.id
 WHERE i.status = 'done'
   AND (%(draw_id)s::bigint IS NULL OR i.draw_id = %(draw_id)s)
 GROUP BY i.id, e.name, e.county, d.plan_id, d.period
 ORDER BY i.inspected_on DESC, i.id DESC
 LIMIT %(limit)s OFFSET %(offset)s
"""
COUNT_RESULTS = """
SELECT count(*) AS n FROM inspections i
 WHERE i.status = 'done' AND (%(draw_id)s::bigint IS NULL OR i.draw_id = %(draw_id)s)
"""
COUNT_PENALTIES = """
SELECT count(*) AS n FROM published_penalties
 WHERE withdrawn_at IS NULL AND publish_until >= %(today)s
"""


@dataclass(frozen=True, slots=True)
class OfficerName:
    """What may be shown of an officer: name, certificate number, department, expert flag."""

    officer_id: str
    name: str
    certificate_no: str
    department: str
    auxiliary: bool


@dataclass(frozen=True, slots=True)
class PublicResult:
    """A completed inspection as published: who was inspected, when, and what came of it."""

    inspection_id: int
    credit_code: str
    enterprise_name: str
    county: str
    source: str
    draw_id: int | None
    plan_id: str | None
    period: str | None
    inspected_on: date | None
    findings: int
    guidance: int
    rectify: int
    penalty_procedure: int
    rectified: int


async def _count(
    conn: AsyncConnection[Any], *, statement: LiteralString, params: dict[str, Any]
) -> int:
    row = await fetch_one(conn, statement=statement, params=params)
    return int(row["n"]) if row else 0


async def count_officers(
    conn: AsyncConnection[Any], *, department: str | None, active: bool | None
) -> int:
    """How many officers match the filters of storage.directory.list_officers."""
    params = {"department": department, "active": active}
    return await _count(conn, statement=COUNT_OFFICERS, params=params)


async def count_draws(conn: AsyncConnection[Any], *, state: str | None, plan_id: str | None) -> int:
    """How many draws match the filters of storage.draws.list_draws."""
    return await _count(conn, statement=COUNT_DRAWS, params={"state": state, "plan_id": plan_id})


async def officer_names(conn: AsyncConnection[Any], *, ids: list[str]) -> dict[str, OfficerName]:
    """Public identities of officers by id."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(OfficerName)) as cur:
        await cur.execute(OFFICER_NAMES, {"ids": ids})
        return {o.officer_id: o for o in await cur.fetchall()}


async def set_status(
    conn: AsyncConnection[Any], *, inspection_id: int, status: str, inspected_on: date | None
) -> bool:
    """Mark an inspection done (with its date) or cancelled; False when it does not exist."""
    params = {"id": inspection_id, "status": status, "inspected_on": inspected_on}
    return await fetch_one(conn, statement=COMPLETE, params=params) is not None


async def public_results(
    conn: AsyncConnection[Any], *, draw_id: int | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[PublicResult], int]:
    """Completed inspections with their findings summed up by outcome, newest first."""
    params = {"draw_id": draw_id, "limit": limit, "offset": offset}
    async with amapped_errors(), conn.cursor(row_factory=class_row(PublicResult)) as cur:
        await cur.execute(RESULTS, params)
        rows = await cur.fetchall()
    return rows, await _count(conn, statement=COUNT_RESULTS, params=params)


async def count_penalties(conn: AsyncConnection[Any], *, today: date) -> int:
    """How many penalties storage.enforcement.public_penalties pages through."""
    return await _count(conn, statement=COUNT_PENALTIES, params={"today": today})
