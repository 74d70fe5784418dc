"""Findings with the advisor's recommendation, the officer's decision, verification and lapse
(the columns of migration 0201); storage/enforcement.py keeps the older reads and reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from domain.errors import NotFound
from domain.i18n import msg
from storage.errors import amapped_errors
from storage.rows import fetch_values

_COLUMNS = """
id, inspection_id, enterprise_id, item_code, legal_basis, penalty_basis, basis_free_text,
basis_reason, cause, measure, deadline, corrected_on_site, severity, hazard_standard,
hazard_criterion, harm, accident, illegal_production, bad_social_impact, mitigations, outcome,
recommendation, advice, policy_version, provisional, verify_by, decision, decision_reason,
decided_by, decided_at, verified_on, lapsed_at, rectified_at, statement, statement_note,
statement_at, created_by, created_at, order_id, reinspection_id, reinspection_result,
reinspection_method, reinspection_note, reinspection_video, closed_at
"""
INSERT = (
    """
INSERT INTO findings (inspection_id, enterprise_id, item_code, legal_basis, penalty_basis,
                      basis_free_text, basis_reason, cause, measure, deadline, corrected_on_site,
                      severity, hazard_standard, hazard_criterion, harm, accident,
                      illegal_production, bad_social_impact, mitigations, outcome, reasons,
                      recommendation, advice, policy_version, provisional, verify_by, created_by,
                      rectified_at, verified_on)
VALUES (%(inspection_id)s, %(enterprise_id)s, %(item_code)s, %(legal_basis)s, %(penalty_basis)s,
        %(basis_free_text)s, %(basis_reason)s, %(cause)s, %(measure)s, %(deadline)s,
        %(corrected_on_site)s, %(severity)s, %(hazard_standard)s, %(hazard_criterion)s, %(harm)s,
        %(accident)s, %(illegal_production)s, %(bad_social_impact)s, %(mitigations)s,
        %(outcome)s, %(reasons)s, %(recommendation)s, %(advice)s, %(policy_version)s,
        %(provisional)s, %(verify_by)s, %(created_by)s, %(rectified_at)s, %(verified_on)s)
RETURNING """
    + _COLUMNS
)
_SELECT = "SELECT" + _COLUMNS + "FROM findings"
SELECT_ONE = _SELECT + " WHERE id = %(id)s"
LOCK_ONE = SELECT_ONE + " FOR UPDATE"
FOR_INSPECTION = _SELECT + " WHERE inspection_id = %(inspection_id)s ORDER BY id"
OVERRIDES = (
    _SELECT
    + """ WHERE decision IS NOT NULL AND decision <> recommendation
 ORDER BY decided_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s"""
)
FOR_ORDER = _SELECT + " WHERE order_id = %(order_id)s ORDER BY id"
TO_ORDER = """
SELECT id FROM findings
 WHERE inspection_id = %(inspection_id)s AND order_id IS NULL AND NOT corrected_on_site
   AND deadline IS NOT NULL AND closed_at IS NULL
 ORDER BY id
"""
ATTACH = "UPDATE findings SET order_id = %(order_id)s WHERE id = ANY(%(ids)s)"
REINSPECT = """
UPDATE findings SET reinspection_id = %(inspection_id)s, reinspection_result = %(result)s,
       reinspection_method = %(method)s, reinspection_note = %(note)s,
       reinspection_video = %(video)s,
       closed_at = CASE WHEN %(result)s = 'passed' THEN %(at)s END
 WHERE id = %(id)s
"""
EXTEND = """
UPDATE findings SET deadline = %(deadline)s
 WHERE order_id = %(order_id)s AND closed_at IS NULL AND NOT corrected_on_site
"""
DECIDE = """
UPDATE findings SET decision = %(decision)s, decision_reason = %(reason)s,
       decided_by = %(by)s, decided_at = %(at)s, outcome = %(outcome)s
 WHERE id = %(id)s
"""
STATEMENT = """
UPDATE findings SET statement = %(statement)s, statement_note = %(note)s, statement_at = %(at)s
 WHERE id = %(id)s
"""
VERIFY = """
UPDATE findings SET verified_on = %(on)s, rectified_at = coalesce(rectified_at, %(at)s)
 WHERE id = %(id)s
"""
LAPSE = """
UPDATE findings SET lapsed_at = %(at)s, provisional = false, recommendation = 'case',
       advice = advice || %(check)s, outcome = 'penalty_procedure',
       decision = NULL, decision_reason = NULL, decided_by = NULL, decided_at = NULL
 WHERE id = %(id)s AND lapsed_at IS NULL
"""
PROVISIONAL_DUE = """
SELECT id FROM findings
 WHERE provisional AND lapsed_at IS NULL AND verified_on IS NULL AND verify_by < %(today)s
 ORDER BY id
"""


@dataclass(frozen=True, slots=True)
class FindingRecord:
    """A finding with its grading, advice, decision and verification."""

    id: int
    inspection_id: int | None
    enterprise_id: str
    item_code: str
    legal_basis: str
    penalty_basis: str | None
    basis_free_text: bool
    basis_reason: str
    cause: str
    measure: str
    deadline: date | None
    corrected_on_site: bool
    severity: str
    hazard_standard: str | None
    hazard_criterion: str | None
    harm: str | None
    accident: bool
    illegal_production: bool
    bad_social_impact: bool
    mitigations: list[str]
    outcome: str
    recommendation: str | None
    advice: list[dict[str, Any]]
    policy_version: str | None
    provisional: bool
    verify_by: date | None
    decision: str | None
    decision_reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    verified_on: date | None
    lapsed_at: datetime | None
    rectified_at: datetime | None
    statement: str | None
    statement_note: str
    statement_at: datetime | None
    created_by: str
    created_at: datetime
    order_id: int | None = None
    reinspection_id: int | None = None
    reinspection_result: str | None = None
    reinspection_method: str | None = None
    reinspection_note: str = ""
    reinspection_video: str | None = None
    closed_at: datetime | None = None


async def insert(conn: AsyncConnection[Any], *, values: dict[str, Any]) -> FindingRecord:
    """Store a validated and advised finding (`values` holds every INSERT parameter)."""
    params = dict(values)
    params["advice"] = Jsonb(values["advice"])
    params["reasons"] = Jsonb(values["reasons"])
    async with amapped_errors(), conn.cursor(row_factory=class_row(FindingRecord)) as cur:
        await cur.execute(INSERT, params)
        row = await cur.fetchone()
    assert row is not None
    return row


async def get(conn: AsyncConnection[Any], *, finding_id: int, lock: bool = False) -> FindingRecord:
    """One finding (locked for update when asked); NotFound when absent."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(FindingRecord)) as cur:
        await cur.execute(LOCK_ONE if lock else SELECT_ONE, {"id": finding_id})
        row = await cur.fetchone()
    if row is None:
        raise NotFound(msg("finding.not_found", finding_id=finding_id))
    return row


async def for_inspection(conn: AsyncConnection[Any], *, inspection_id: int) -> list[FindingRecord]:
    """The findings of an inspection in the order they were recorded."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(FindingRecord)) as cur:
        await cur.execute(FOR_INSPECTION, {"inspection_id": inspection_id})
        return await cur.fetchall()


async def decide(
    conn: AsyncConnection[Any],
    *,
    finding_id: int,
    decision: str,
    reason: str | None,
    by: str,
    at: datetime,
    outcome: str,
) -> None:
    """Record the officer's decision (and the legacy outcome it maps to)."""
    params = {
        "id": finding_id,
        "decision": decision,
        "reason": reason,
        "by": by,
        "at": at,
        "outcome": outcome,
    }
    async with amapped_errors():
        await conn.execute(DECIDE, params)


async def set_statement(
    conn: AsyncConnection[Any], *, finding_id: int, statement: str, note: str, at: datetime
) -> None:
    """The enterprise representative's agreement or objection (measure 12)."""
    params = {"id": finding_id, "statement": statement, "note": note, "at": at}
    async with amapped_errors():
        await conn.execute(STATEMENT, params)


async def verify(conn: AsyncConnection[Any], *, finding_id: int, on: date, at: datetime) -> None:
    """A 复查 verified the rectification on `on` (the finding counts as rectified)."""
    async with amapped_errors():
        await conn.execute(VERIFY, {"id": finding_id, "on": on, "at": at})


async def lapse(
    conn: AsyncConnection[Any], *, finding_id: int, at: datetime, check: dict[str, Any]
) -> bool:
    """Reopen a provisional outcome as 立案-recommended; False when it had lapsed already."""
    async with amapped_errors():
        cur = await conn.execute(LAPSE, {"id": finding_id, "at": at, "check": Jsonb([check])})
    return cur.rowcount == 1


async def provisional_due(conn: AsyncConnection[Any], *, today: date) -> list[int]:
    """Provisional findings whose verification deadline passed unverified."""
    ids = await fetch_values(conn, statement=PROVISIONAL_DUE, params={"today": today})
    return [int(i) for i in ids]


async def for_order(conn: AsyncConnection[Any], *, order_id: int) -> list[FindingRecord]:
    """The findings a rectification order covers."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(FindingRecord)) as cur:
        await cur.execute(FOR_ORDER, {"order_id": order_id})
        return await cur.fetchall()


async def to_order(conn: AsyncConnection[Any], *, inspection_id: int) -> list[int]:
    """Open findings of an inspection with a deadline and no order yet."""
    ids = await fetch_values(conn, statement=TO_ORDER, params={"inspection_id": inspection_id})
    return [int(i) for i in ids]


async def attach(conn: AsyncConnection[Any], *, order_id: int, ids: list[int]) -> None:
    """Put findings under a rectification order."""
    async with amapped_errors():
        await conn.execute(ATTACH, {"order_id": order_id, "ids": ids})


async def reinspect(
    conn: AsyncConnection[Any],
    *,
    finding_id: int,
    inspection_id: int,
    result: str,
    method: str,
    note: str,
    video: str | None,
    at: datetime,
) -> None:
    """Record a 复查's result on a finding (passed closes it)."""
    params = {
        "id": finding_id,
        "inspection_id": inspection_id,
        "result": result,
        "method": method,
        "note": note,
        "video": video,
        "at": at,
    }
    async with amapped_errors():
        await conn.execute(REINSPECT, params)


async def extend(conn: AsyncConnection[Any], *, order_id: int, deadline: date) -> None:
    """Move the open findings of an order to a new deadline (their verify_by stays)."""
    async with amapped_errors():
        await conn.execute(EXTEND, {"order_id": order_id, "deadline": deadline})


async def overrides(conn: AsyncConnection[Any], *, limit: int, offset: int) -> list[FindingRecord]:
    """Findings whose officer departed from the advisor's recommendation, newest first."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(FindingRecord)) as cur:
        await cur.execute(OVERRIDES, {"limit": limit, "offset": offset})
        return await cur.fetchall()
