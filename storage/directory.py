"""Officer/expert directory, declared conflicts, inspection items, and frozen draw populations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row, dict_row, scalar_row

from domain.directory import (
    Conflict,
    Enterprise,
    EnterpriseCode,
    InspectionItem,
    InspectionMethod,
    ItemId,
    Officer,
    OfficerId,
)
from domain.draw.snapshot import ENTERPRISE_FIELDS, OFFICER_FIELDS, Row
from domain.errors import NotFound
from domain.i18n import msg
from storage.errors import amapped_errors
from storage.rows import list_row

UPSERT_OFFICER = """
INSERT INTO officers (officer_id, name, department, county, certificate_no,
                      certificate_valid_from, certificate_valid_to, active, auxiliary)
VALUES (%(officer_id)s, %(name)s, %(department)s, %(county)s, %(certificate_no)s,
        %(certificate_valid_from)s, %(certificate_valid_to)s, %(active)s, %(auxiliary)s)
ON CONFLICT (officer_id) DO UPDATE SET
    name = EXCLUDED.name, department = EXCLUDED.department, county = EXCLUDED.county,
    certificate_no = EXCLUDED.certificate_no,
    certificate_valid_from = EXCLUDED.certificate_valid_from,
    certificate_valid_to = EXCLUDED.certificate_valid_to,
    active = EXCLUDED.active, auxiliary = EXCLUDED.auxiliary
RETURNING (xmax = 0) AS inserted
"""
CLEAR_CONFLICTS = "DELETE FROM officer_conflicts WHERE officer_id = %(officer_id)s"
ADD_CONFLICT = """
INSERT INTO officer_conflicts (officer_id, credit_code, reason)
VALUES (%(officer_id)s, %(credit_code)s, %(reason)s)
ON CONFLICT (officer_id, credit_code) DO UPDATE SET reason = EXCLUDED.reason
"""
SELECT_OFFICERS = """
SELECT officer_id, name, department, county, certificate_no, certificate_valid_from,
       certificate_valid_to, active, auxiliary
  FROM officers
 WHERE (%(department)s::text IS NULL OR department = %(department)s)
   AND (%(active)s::boolean IS NULL OR active = %(active)s)
   AND (%(officer_id)s::text IS NULL OR officer_id = %(officer_id)s)
 ORDER BY officer_id
 LIMIT %(limit)s OFFSET %(offset)s
"""
SELECT_OFFICERS_BY_ID = """
SELECT officer_id, name, department, county, certificate_no, certificate_valid_from,
       certificate_valid_to, active, auxiliary
  FROM officers WHERE officer_id = ANY(%(ids)s) ORDER BY officer_id
"""
SELECT_ENTERPRISES_BY_CODE = """
SELECT credit_code, name, county, sector, risk_colour, credit_class, address,
       coalesce(standardisation_grade, '') AS standardisation_grade,
       coalesce(major_hazard_level::text, '') AS major_hazard_level, high_risk,
       operating_state, deregistered
  FROM enterprises WHERE credit_code = ANY(%(codes)s) ORDER BY credit_code
"""
SELECT_CONFLICTS = """
SELECT officer_id, credit_code, reason FROM officer_conflicts
 WHERE officer_id = ANY(%(ids)s) ORDER BY officer_id, credit_code
"""
UPSERT_ITEM = """
INSERT INTO inspection_items (item_id, item, sub_item, legal_basis, sectors, method,
                              checklist_codes)
VALUES (%(item_id)s, %(item)s, %(sub_item)s, %(legal_basis)s, %(sectors)s, %(method)s,
        %(checklist_codes)s)
ON CONFLICT (item_id) DO UPDATE SET
    item = EXCLUDED.item, sub_item = EXCLUDED.sub_item, legal_basis = EXCLUDED.legal_basis,
    sectors = EXCLUDED.sectors, method = EXCLUDED.method,
    checklist_codes = EXCLUDED.checklist_codes
RETURNING (xmax = 0) AS inserted
"""
SELECT_ITEMS = """
SELECT item_id, item, sub_item, legal_basis, sectors, method, checklist_codes
  FROM inspection_items ORDER BY item_id
"""
#: The enterprise snapshot: directory rows with this year's inspection count and the last one
#: (columns named as domain.draw.snapshot.ENTERPRISE_FIELDS).
POPULATION_ENTERPRISES = """
SELECT e.credit_code AS code, e.name, e.county, e.sector, e.risk_colour, e.credit_class,
       e.operating_state, e.deregistered,
       coalesce(h.this_year, 0)::integer AS inspections_this_year,
       to_char(h.last_on, 'YYYY-MM-DD') AS last_inspected_on
  FROM enterprises e
  LEFT JOIN (
        SELECT credit_code,
               count(*) FILTER (WHERE d >= %(year_start)s AND d < %(next_year)s) AS this_year,
               max(d) AS last_on
          FROM (SELECT credit_code, coalesce(inspected_on, planned_from) AS d
                  FROM inspections WHERE status <> 'cancelled') AS s
         GROUP BY credit_code) AS h USING (credit_code)
 ORDER BY e.credit_code COLLATE "C"
"""
#: The officer snapshot: directory rows with tasks already assigned in an overlapping window
#: (columns named as domain.draw.snapshot.OFFICER_FIELDS; `id` is the directory id here).
POPULATION_OFFICERS = """
SELECT o.officer_id AS id, o.certificate_no <> '' AS certified,
       to_char(o.certificate_valid_from, 'YYYY-MM-DD') AS certificate_valid_from,
       to_char(o.certificate_valid_to, 'YYYY-MM-DD') AS certificate_valid_to, o.department,
       o.county, o.active, o.auxiliary, coalesce(l.load, 0)::integer AS prior_load,
       coalesce((SELECT array_agg(c.credit_code ORDER BY c.credit_code COLLATE "C")
                   FROM officer_conflicts c WHERE c.officer_id = o.officer_id), '{}') AS conflicts
  FROM officers o
  LEFT JOIN (
        SELECT s.officer_id, count(*) AS load
          FROM inspection_staff s JOIN inspections i ON i.id = s.inspection_id
         WHERE i.status <> 'cancelled'
           AND i.planned_from <= %(period_end)s AND i.planned_to >= %(period_start)s
         GROUP BY s.officer_id) AS l USING (officer_id)
 ORDER BY o.officer_id COLLATE "C"
"""


def _officer_params(o: Officer) -> dict[str, Any]:
    return {
        "officer_id": o.officer_id,
        "name": o.name,
        "department": o.department,
        "county": o.county,
        "certificate_no": o.certificate_no,
        "certificate_valid_from": o.certificate_valid_from,
        "certificate_valid_to": o.certificate_valid_to,
        "active": o.active,
        "auxiliary": o.auxiliary,
    }


async def upsert_officers(
    conn: AsyncConnection[Any], *, officers: Sequence[Officer]
) -> tuple[int, int]:
    """Insert or update officers by id, replacing each one's declared conflicts; (new, updated)."""
    inserted = updated = 0
    async with amapped_errors(), conn.transaction(), conn.cursor(row_factory=scalar_row) as cur:
        for officer in officers:
            await cur.execute(UPSERT_OFFICER, _officer_params(officer))
            if await cur.fetchone():
                inserted += 1
            else:
                updated += 1
            await cur.execute(CLEAR_CONFLICTS, {"officer_id": officer.officer_id})
            if officer.conflicts:
                await cur.executemany(
                    ADD_CONFLICT,
                    [
                        {
                            "officer_id": officer.officer_id,
                            "credit_code": c.credit_code,
                            "reason": c.reason,
                        }
                        for c in officer.conflicts
                    ],
                )
    return inserted, updated


async def list_officers(
    conn: AsyncConnection[Any],
    *,
    department: str | None = None,
    active: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Officer]:
    """Officers and experts with their conflicts, ordered by id."""
    return await _officers(
        conn, department=department, active=active, officer_id=None, limit=limit, offset=offset
    )


async def get_officer(conn: AsyncConnection[Any], *, officer_id: str) -> Officer:
    """One officer or expert; NotFound when absent."""
    found = await _officers(
        conn, department=None, active=None, officer_id=officer_id, limit=1, offset=0
    )
    if not found:
        raise NotFound(msg("officer.not_found", officer_id=officer_id))
    return found[0]


async def officers_by_id(conn: AsyncConnection[Any], *, ids: Sequence[str]) -> list[Officer]:
    """The officers and experts with these ids (unknown ids are skipped)."""
    return await _officers(conn, query=SELECT_OFFICERS_BY_ID, ids=list(ids))


async def enterprises_by_code(
    conn: AsyncConnection[Any], *, codes: Sequence[str]
) -> list[Enterprise]:
    """Directory entries (without licences and contacts) for these credit codes."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(Enterprise)) as cur:
        await cur.execute(SELECT_ENTERPRISES_BY_CODE, {"codes": list(codes)})
        return await cur.fetchall()


async def _officers(
    conn: AsyncConnection[Any], *, query: str = SELECT_OFFICERS, **params: Any
) -> list[Officer]:
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        rows = await cur.fetchall()
        await cur.execute(SELECT_CONFLICTS, {"ids": [r["officer_id"] for r in rows]})
        conflicts: dict[str, list[Conflict]] = defaultdict(list)
        for c in await cur.fetchall():
            conflicts[c["officer_id"]].append(
                Conflict(OfficerId(c["officer_id"]), EnterpriseCode(c["credit_code"]), c["reason"])
            )
    return [Officer(**r, conflicts=tuple(conflicts.get(r["officer_id"], ()))) for r in rows]


async def upsert_items(
    conn: AsyncConnection[Any], *, items: Sequence[InspectionItem]
) -> tuple[int, int]:
    """Insert or update inspection items by id; (new, updated)."""
    inserted = updated = 0
    async with amapped_errors(), conn.transaction(), conn.cursor(row_factory=scalar_row) as cur:
        for item in items:
            await cur.execute(
                UPSERT_ITEM,
                {
                    "item_id": item.item_id,
                    "item": item.item,
                    "sub_item": item.sub_item,
                    "legal_basis": item.legal_basis,
                    "sectors": list(item.sectors),
                    "method": item.method.value,
                    "checklist_codes": list(item.checklist_codes),
                },
            )
            if await cur.fetchone():
                inserted += 1
            else:
                updated += 1
    return inserted, updated


async def list_items(conn: AsyncConnection[Any]) -> list[InspectionItem]:
    """The whole inspection-item list, ordered by id."""
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SELECT_ITEMS)
        rows = await cur.fetchall()
    return [
        InspectionItem(
            item_id=ItemId(r["item_id"]),
            item=r["item"],
            sub_item=r["sub_item"],
            legal_basis=r["legal_basis"],
            sectors=tuple(r["sectors"]),
            method=InspectionMethod(r["method"]),
            checklist_codes=tuple(r["checklist_codes"]),
        )
        for r in rows
    ]


async def population(
    conn: AsyncConnection[Any], *, period_start: date, period_end: date
) -> tuple[list[Row], list[Row]]:
    """Snapshot rows (enterprises, officers) for a draw of this period, as the draw expects;
    officers by their directory id (the caller publishes pseudonyms), never by name."""
    params = {
        "period_end": period_end,
        "period_start": period_start,
        "year_start": date(period_start.year, 1, 1),
        "next_year": date(period_start.year + 1, 1, 1),
    }
    async with amapped_errors(), conn.cursor(row_factory=list_row(ENTERPRISE_FIELDS)) as cur:
        await cur.execute(POPULATION_ENTERPRISES, params)
        enterprises = await cur.fetchall()
    async with amapped_errors(), conn.cursor(row_factory=list_row(OFFICER_FIELDS)) as cur:
        await cur.execute(POPULATION_OFFICERS, params)
        officers = await cur.fetchall()
    return enterprises, officers
