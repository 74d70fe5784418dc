"""What supervisors review and plan with: extension requests with their order and enterprise,
and an enterprise's inspections of a year (the yearly cap, the origin of a 复查)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

from domain.errors import NotFound
from domain.i18n import msg
from storage.errors import amapped_errors
from storage.rows import fetch_one

EXTENSIONS = """
SELECT x.id, x.order_id, o.doc_no, o.inspection_id, o.enterprise_id, e.name AS enterprise_name,
       o.deadline AS current_deadline, o.state AS order_state, x.requested_deadline, x.reason,
       x.requested_by, x.requested_at, x.state, x.decided_by, x.decided_at, x.decision_reason,
       x.granted_deadline
  FROM rectification_extensions x
  JOIN rectification_orders o ON o.id = x.order_id
  JOIN enterprises e ON e.credit_code = o.enterprise_id
 WHERE (%(state)s::text IS NULL OR x.state = %(state)s)
 ORDER BY x.state <> 'pending', x.requested_at DESC, x.id DESC
 LIMIT %(limit)s OFFSET %(offset)s
"""
#: Serialises the cap check of one enterprise: two supervisors creating at once cannot both
#: take the last place.
LOCK_ENTERPRISE = """
SELECT credit_code, name FROM enterprises WHERE credit_code = %(credit_code)s FOR UPDATE
"""
ENTERPRISE = "SELECT credit_code, name FROM enterprises WHERE credit_code = %(credit_code)s"
OF_YEAR = """
SELECT id, source, status, planned_from, planned_to, inspected_on
  FROM inspections
 WHERE credit_code = %(credit_code)s
   AND extract(year FROM coalesce(inspected_on, planned_from))::integer = %(year)s
 ORDER BY coalesce(inspected_on, planned_from), id
"""


@dataclass(frozen=True, slots=True)
class QueuedExtension:
    """An extension request with its order's number, deadline and enterprise."""

    id: int
    order_id: int
    doc_no: str
    inspection_id: int
    enterprise_id: str
    enterprise_name: str
    current_deadline: date
    order_state: str
    requested_deadline: date
    reason: str
    requested_by: str
    requested_at: datetime
    state: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    granted_deadline: date | None


@dataclass(frozen=True, slots=True)
class YearInspection:
    """An inspection of the enterprise in the year (cancelled ones listed, not counted)."""

    id: int
    source: str
    status: str
    planned_from: date
    planned_to: date
    inspected_on: date | None


async def extensions(
    conn: AsyncConnection[Any], *, state: str | None, limit: int, offset: int
) -> list[QueuedExtension]:
    """Extension requests, pending first and newest first."""
    params = {"state": state, "limit": limit, "offset": offset}
    async with amapped_errors(), conn.cursor(row_factory=class_row(QueuedExtension)) as cur:
        await cur.execute(EXTENSIONS, params)
        return await cur.fetchall()


async def enterprise_name(
    conn: AsyncConnection[Any], *, credit_code: str, lock: bool = False
) -> str:
    """The enterprise's name (its row locked when asked); NotFound when absent."""
    statement = LOCK_ENTERPRISE if lock else ENTERPRISE
    row = await fetch_one(conn, statement=statement, params={"credit_code": credit_code})
    if row is None:
        raise NotFound(msg("enterprise.not_found", credit_code=credit_code))
    return str(row["name"])


async def of_year(
    conn: AsyncConnection[Any], *, credit_code: str, year: int
) -> list[YearInspection]:
    """The enterprise's inspections dated in the year (by visit date, else planned start)."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(YearInspection)) as cur:
        await cur.execute(OF_YEAR, {"credit_code": credit_code, "year": year})
        return await cur.fetchall()
