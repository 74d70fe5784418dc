"""Supervisors' statistics of enforcement: inspections planned and done, findings by grade and
by the advisor's recommendation, overrides, rectification on time — by county and month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

from storage.errors import amapped_errors

BY_COUNTY_MONTH = """
WITH i AS (
    SELECT i.id, e.county, to_char(coalesce(i.inspected_on, i.planned_from), 'YYYY-MM') AS month,
           i.status
      FROM inspections i JOIN enterprises e USING (credit_code)
     WHERE coalesce(i.inspected_on, i.planned_from) BETWEEN %(start)s AND %(end)s
       AND (%(county)s::text IS NULL OR e.county = %(county)s)
), f AS (
    SELECT f.inspection_id,
           count(*) AS findings,
           count(*) FILTER (WHERE f.severity = 'major_hazard') AS major,
           count(*) FILTER (WHERE coalesce(f.decision, f.recommendation) = 'no_penalty')
               AS no_penalty,
           count(*) FILTER (WHERE coalesce(f.decision, f.recommendation) = 'first_violation')
               AS first_violation,
           count(*) FILTER (WHERE coalesce(f.decision, f.recommendation) = 'lenient') AS lenient,
           count(*) FILTER (WHERE coalesce(f.decision, f.recommendation) = 'case') AS cases,
           count(*) FILTER (WHERE f.decision IS NOT NULL AND f.decision <> f.recommendation)
               AS overrides,
           count(*) FILTER (WHERE f.lapsed_at IS NOT NULL) AS lapsed
      FROM findings f WHERE f.inspection_id IN (SELECT id FROM i)
     GROUP BY f.inspection_id
), o AS (
    SELECT r.inspection_id, count(*) AS orders,
           count(*) FILTER (WHERE r.closed_at IS NOT NULL
                            AND (r.closed_at AT TIME ZONE %(tz)s)::date <= r.deadline) AS on_time,
           count(*) FILTER (WHERE r.escalated_at IS NOT NULL) AS overdue
      FROM rectification_orders r WHERE r.inspection_id IN (SELECT id FROM i)
     GROUP BY r.inspection_id
)
SELECT i.county, i.month,
       count(*) FILTER (WHERE i.status <> 'cancelled')::integer AS planned,
       count(*) FILTER (WHERE i.status = 'done')::integer AS done,
       coalesce(sum(f.findings), 0)::integer AS findings,
       coalesce(sum(f.major), 0)::integer AS major_hazards,
       coalesce(sum(f.no_penalty), 0)::integer AS no_penalty,
       coalesce(sum(f.first_violation), 0)::integer AS first_violation,
       coalesce(sum(f.lenient), 0)::integer AS lenient,
       coalesce(sum(f.cases), 0)::integer AS cases,
       coalesce(sum(f.overrides), 0)::integer AS overrides,
       coalesce(sum(f.lapsed), 0)::integer AS lapsed,
       coalesce(sum(o.orders), 0)::integer AS orders,
       coalesce(sum(o.on_time), 0)::integer AS on_time,
       coalesce(sum(o.overdue), 0)::integer AS overdue
  FROM i LEFT JOIN f ON f.inspection_id = i.id LEFT JOIN o ON o.inspection_id = i.id
 GROUP BY i.county, i.month
 ORDER BY i.month, i.county
"""
BY_ITEM = """
SELECT f.item_code, f.severity, count(*)::integer AS findings
  FROM findings f JOIN inspections i ON i.id = f.inspection_id
  JOIN enterprises e ON e.credit_code = i.credit_code
 WHERE coalesce(i.inspected_on, i.planned_from) BETWEEN %(start)s AND %(end)s
   AND (%(county)s::text IS NULL OR e.county = %(county)s)
 GROUP BY f.item_code, f.severity
 ORDER BY f.item_code, f.severity
"""


@dataclass(frozen=True, slots=True)
class CountyMonth:
    """One county's month of enforcement."""

    county: str
    month: str
    planned: int
    done: int
    findings: int
    major_hazards: int
    no_penalty: int
    first_violation: int
    lenient: int
    cases: int
    overrides: int
    lapsed: int
    orders: int
    on_time: int
    overdue: int


@dataclass(frozen=True, slots=True)
class ItemGrade:
    """Findings of one checklist item and grade."""

    item_code: str
    severity: str
    findings: int


async def by_county_month(
    conn: AsyncConnection[Any], *, start: date, end: date, county: str | None, tz: str
) -> list[CountyMonth]:
    """The statistics by county and month of the inspections in [start, end]."""
    params = {"start": start, "end": end, "county": county, "tz": tz}
    async with amapped_errors(), conn.cursor(row_factory=class_row(CountyMonth)) as cur:
        await cur.execute(BY_COUNTY_MONTH, params)
        return await cur.fetchall()


async def by_item(
    conn: AsyncConnection[Any], *, start: date, end: date, county: str | None
) -> list[ItemGrade]:
    """Findings by checklist item and grade."""
    params = {"start": start, "end": end, "county": county}
    async with amapped_errors(), conn.cursor(row_factory=class_row(ItemGrade)) as cur:
        await cur.execute(BY_ITEM, params)
        return await cur.fetchall()
