"""Inspections of every origin, their staff, and the per-enterprise counts the yearly cap uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row, dict_row

from domain.draw import Team
from domain.errors import NotFound
from domain.i18n import msg
from storage.errors import amapped_errors
from storage.inspection_lists import copy_for_inspection
from storage.rows import fetch_one

INSERT_DRAWN = """
INSERT INTO inspections (credit_code, source, draw_id, departments, planned_from, planned_to)
VALUES (%(credit_code)s, 'draw', %(draw_id)s, %(departments)s, %(planned_from)s, %(planned_to)s)
ON CONFLICT (draw_id, credit_code) WHERE draw_id IS NOT NULL DO NOTHING
RETURNING id
"""
INSERT_OTHER = """
INSERT INTO inspections (credit_code, source, departments, planned_from, planned_to,
                         inspected_on, status, reason, follow_up_of, created_by)
VALUES (%(credit_code)s, %(source)s, %(departments)s, %(planned_from)s, %(planned_to)s,
        %(inspected_on)s, %(status)s, %(reason)s, %(follow_up_of)s, %(created_by)s)
RETURNING id
"""
INSERT_STAFF = """
INSERT INTO inspection_staff (inspection_id, officer_id, role)
VALUES (%(inspection_id)s, %(officer_id)s, %(role)s)
"""
GET = """
SELECT i.id, i.credit_code, e.name AS enterprise_name, i.source, i.draw_id, i.departments,
       i.planned_from, i.planned_to, i.inspected_on, i.status,
       coalesce((SELECT array_agg(s.officer_id ORDER BY s.role <> 'leader', s.role = 'expert',
                                  s.officer_id)
                   FROM inspection_staff s WHERE s.inspection_id = i.id), '{}') AS staff,
       (SELECT s.officer_id FROM inspection_staff s
         WHERE s.inspection_id = i.id AND s.role = 'leader') AS leader,
       i.created_at, i.reason, i.follow_up_of
  FROM inspections i JOIN enterprises e USING (credit_code)
 WHERE i.id = %(id)s
"""
FOR_DRAW = """
SELECT i.id, i.credit_code, e.name AS enterprise_name, i.source, i.draw_id, i.departments,
       i.planned_from, i.planned_to, i.inspected_on, i.status,
       coalesce((SELECT array_agg(s.officer_id ORDER BY s.role <> 'leader', s.role = 'expert',
                                  s.officer_id)
                   FROM inspection_staff s WHERE s.inspection_id = i.id), '{}') AS staff,
       (SELECT s.officer_id FROM inspection_staff s
         WHERE s.inspection_id = i.id AND s.role = 'leader') AS leader,
       i.created_at, i.reason, i.follow_up_of
  FROM inspections i JOIN enterprises e USING (credit_code)
 WHERE i.draw_id = %(draw_id)s ORDER BY i.id
"""
COUNT = """
SELECT coalesce(sum(inspections), 0)::integer AS n FROM inspection_counts
 WHERE credit_code = %(credit_code)s AND year = %(year)s
"""


@dataclass(frozen=True, slots=True)
class InspectionRecord:
    """An inspection with its enterprise name and staff (leader first, experts last)."""

    id: int
    credit_code: str
    enterprise_name: str
    source: str
    draw_id: int | None
    departments: list[str]
    planned_from: date
    planned_to: date
    inspected_on: date | None
    status: str
    staff: list[str]
    leader: str | None
    created_at: datetime
    reason: str = ""
    follow_up_of: int | None = None


async def create_for_draw(
    conn: AsyncConnection[Any],
    *,
    draw_id: int,
    teams: Sequence[Team],
    departments: Sequence[str],
    planned_from: date,
    planned_to: date,
) -> int:
    """One planned inspection per staffed team of a draw (idempotent); return how many new."""
    created = 0
    async with amapped_errors(), conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        for team in teams:
            await cur.execute(
                INSERT_DRAWN,
                {
                    "credit_code": team.enterprise,
                    "draw_id": draw_id,
                    "departments": list(departments),
                    "planned_from": planned_from,
                    "planned_to": planned_to,
                },
            )
            row = await cur.fetchone()
            if row is None:
                continue
            created += 1
            await copy_for_inspection(cur, inspection_id=row["id"])
            staff = [(team.leader, "leader")]
            staff += [(o, "member") for o in team.officers[1:]]
            staff += [(x, "expert") for x in team.experts]
            await cur.executemany(
                INSERT_STAFF,
                [{"inspection_id": row["id"], "officer_id": o, "role": r} for o, r in staff],
            )
    return created


async def record_other(
    conn: AsyncConnection[Any],
    *,
    credit_code: str,
    source: str,
    departments: Sequence[str],
    planned_from: date,
    planned_to: date,
    inspected_on: date | None = None,
    status: str = "planned",
    staff: Sequence[tuple[str, str]] = (),
    reason: str = "",
    follow_up_of: int | None = None,
    created_by: str | None = None,
) -> int:
    """Record an inspection not made by a draw (重点, 举报, 复查 …); return its id."""
    async with amapped_errors(), conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            INSERT_OTHER,
            {
                "credit_code": credit_code,
                "source": source,
                "departments": list(departments),
                "planned_from": planned_from,
                "planned_to": planned_to,
                "inspected_on": inspected_on,
                "status": status,
                "reason": reason,
                "follow_up_of": follow_up_of,
                "created_by": created_by,
            },
        )
        row = await cur.fetchone()
        assert row is not None
        if staff:
            await cur.executemany(
                INSERT_STAFF,
                [{"inspection_id": row["id"], "officer_id": o, "role": r} for o, r in staff],
            )
    return int(row["id"])


async def get_inspection(conn: AsyncConnection[Any], *, inspection_id: int) -> InspectionRecord:
    """One inspection; NotFound when absent."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(InspectionRecord)) as cur:
        await cur.execute(GET, {"id": inspection_id})
        found = await cur.fetchone()
    if found is None:
        raise NotFound(msg("inspection.not_found", inspection_id=inspection_id))
    return found


async def for_draw(conn: AsyncConnection[Any], *, draw_id: int) -> list[InspectionRecord]:
    """The inspections a draw created."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(InspectionRecord)) as cur:
        await cur.execute(FOR_DRAW, {"draw_id": draw_id})
        return await cur.fetchall()


async def count_this_year(conn: AsyncConnection[Any], *, credit_code: str, year: int) -> int:
    """Inspections of an enterprise in a calendar year that count against the yearly cap."""
    row = await fetch_one(conn, statement=COUNT, params={"credit_code": credit_code, "year": year})
    return int(row["n"]) if row else 0
