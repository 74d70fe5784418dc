"""The staff of an inspection with what the record shows of each (name, certificate), the
officers a proposed team names, their declared conflicts, and replacing a team."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

from domain.inspection_access import TeamMember
from storage.errors import amapped_errors
from storage.rows import fetch_all

TEAM = """
SELECT s.officer_id, s.role, o.name, o.certificate_no, o.certificate_valid_from,
       o.certificate_valid_to, o.auxiliary, o.active
  FROM inspection_staff s JOIN officers o USING (officer_id)
 WHERE s.inspection_id = %(inspection_id)s
 ORDER BY s.role <> 'leader', s.role = 'expert', s.officer_id
"""
OFFICERS = """
SELECT officer_id, 'member' AS role, name, certificate_no, certificate_valid_from,
       certificate_valid_to, auxiliary, active
  FROM officers WHERE officer_id = ANY(%(ids)s)
"""
CONFLICTS = """
SELECT officer_id FROM officer_conflicts
 WHERE credit_code = %(credit_code)s AND officer_id = ANY(%(ids)s)
"""
DELETE_TEAM = "DELETE FROM inspection_staff WHERE inspection_id = %(inspection_id)s"
INSERT_STAFF = """
INSERT INTO inspection_staff (inspection_id, officer_id, role)
VALUES (%(inspection_id)s, %(officer_id)s, %(role)s)
"""


async def team(conn: AsyncConnection[Any], *, inspection_id: int) -> list[TeamMember]:
    """The inspection's staff, leader first and experts last."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(TeamMember)) as cur:
        await cur.execute(TEAM, {"inspection_id": inspection_id})
        return await cur.fetchall()


async def officers(conn: AsyncConnection[Any], *, ids: Sequence[str]) -> dict[str, TeamMember]:
    """Directory entries of the named officers (role left as 'member' for the caller to set)."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(TeamMember)) as cur:
        await cur.execute(OFFICERS, {"ids": list(ids)})
        return {m.officer_id: m for m in await cur.fetchall()}


async def conflicts(
    conn: AsyncConnection[Any], *, credit_code: str, ids: Sequence[str]
) -> set[str]:
    """Which of the officers declared a conflict with the enterprise."""
    params = {"credit_code": credit_code, "ids": list(ids)}
    return {str(r["officer_id"]) for r in await fetch_all(conn, statement=CONFLICTS, params=params)}


async def replace_team(
    conn: AsyncConnection[Any], *, inspection_id: int, staff: Sequence[tuple[str, str]]
) -> None:
    """Set the inspection's staff to (officer, role) pairs, in the caller's transaction."""
    async with amapped_errors(), conn.cursor() as cur:
        await cur.execute(DELETE_TEAM, {"inspection_id": inspection_id})
        await cur.executemany(
            INSERT_STAFF,
            [{"inspection_id": inspection_id, "officer_id": o, "role": r} for o, r in staff],
        )


MINE = """
SELECT i.id, i.credit_code, e.name AS enterprise_name, i.source, i.planned_from, i.planned_to,
       i.inspected_on, i.status, s.role
  FROM inspection_staff s JOIN inspections i ON i.id = s.inspection_id
  JOIN enterprises e ON e.credit_code = i.credit_code
 WHERE s.officer_id = %(officer_id)s AND i.status <> 'cancelled'
 ORDER BY i.planned_from, i.id
 LIMIT 500
"""


@dataclass(frozen=True, slots=True)
class MyInspection:
    """An inspection on an officer's list, with the officer's role on it."""

    id: int
    credit_code: str
    enterprise_name: str
    source: str
    planned_from: date
    planned_to: date
    inspected_on: date | None
    status: str
    role: str


async def for_officer(conn: AsyncConnection[Any], *, officer_id: str) -> list[MyInspection]:
    """The inspections whose team includes the officer (not cancelled)."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(MyInspection)) as cur:
        await cur.execute(MINE, {"officer_id": officer_id})
        return await cur.fetchall()
