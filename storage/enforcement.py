"""Findings, published penalties and reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from domain.enforcement import Decision, FindingDraft
from domain.reminders import OpenFinding, PublishedPenalty, Reminder
from storage.errors import amapped_errors
from storage.rows import fetch_all, fetch_value, fetch_values

INSERT_FINDING = """
INSERT INTO findings (inspection_id, enterprise_id, item_code, legal_basis, cause, measure,
                      deadline, corrected_on_site, severity, outcome, reasons, created_by)
VALUES (%(inspection_id)s, %(enterprise_id)s, %(item_code)s, %(legal_basis)s, %(cause)s,
        %(measure)s, %(deadline)s, %(corrected_on_site)s, %(severity)s, %(outcome)s,
        %(reasons)s, %(created_by)s)
RETURNING id
"""
PRIOR_VIOLATIONS = """
SELECT created_at FROM findings
 WHERE enterprise_id = %(enterprise_id)s AND item_code = %(item_code)s
   AND created_at >= %(since)s
"""
OPEN_FINDINGS_DUE = """
SELECT id, enterprise_id, item_code, deadline FROM findings
 WHERE rectified_at IS NULL AND deadline IS NOT NULL AND deadline <= %(until)s
   AND (%(ent)s::text IS NULL OR enterprise_id = %(ent)s)
"""
FINDINGS_DUE_ENTERPRISES = """
SELECT DISTINCT enterprise_id FROM findings
 WHERE rectified_at IS NULL AND deadline IS NOT NULL AND deadline <= %(until)s
 ORDER BY 1
"""
SELECT_FINDINGS = """
SELECT id, inspection_id, enterprise_id, item_code, legal_basis, cause, measure, deadline,
       corrected_on_site, severity, outcome, reasons, created_by, created_at, rectified_at
  FROM findings
 WHERE (%(inspection_id)s::bigint IS NULL OR inspection_id = %(inspection_id)s)
   AND (%(enterprise_id)s::text IS NULL OR enterprise_id = %(enterprise_id)s)
 ORDER BY id
"""
MARK_RECTIFIED = """
UPDATE findings SET rectified_at = %(at)s WHERE id = %(id)s AND rectified_at IS NULL
RETURNING id
"""
LICENCES = """
SELECT credit_code, licences FROM enterprises
 WHERE NOT deregistered AND jsonb_array_length(licences) > 0
"""
PENALTIES_DUE = """
SELECT id, enterprise_id, decision_no, publish_until FROM published_penalties
 WHERE withdrawn_at IS NULL AND publish_until <= %(until)s
   AND (%(ent)s::text IS NULL OR enterprise_id = %(ent)s)
"""
PENALTIES_DUE_ENTERPRISES = """
SELECT DISTINCT enterprise_id FROM published_penalties
 WHERE withdrawn_at IS NULL AND publish_until <= %(until)s
 ORDER BY 1
"""
WITHDRAW = """
UPDATE published_penalties SET withdrawn_at = %(at)s
 WHERE id = ANY(%(ids)s) AND withdrawn_at IS NULL
"""
INSERT_PENALTY = """
INSERT INTO published_penalties (enterprise_id, decision_no, summary, decided_on, publish_until)
VALUES (%(enterprise_id)s, %(decision_no)s, %(summary)s, %(decided_on)s, %(publish_until)s)
RETURNING id
"""
PUBLIC_PENALTIES = """
SELECT p.id, p.enterprise_id, e.name AS enterprise_name, p.decision_no, p.summary,
       p.decided_on, p.published_at, p.publish_until
  FROM published_penalties p JOIN enterprises e ON e.credit_code = p.enterprise_id
 WHERE p.withdrawn_at IS NULL AND p.publish_until >= %(today)s
 ORDER BY p.decided_on DESC, p.id DESC
 LIMIT %(limit)s OFFSET %(offset)s
"""
INSERT_REMINDER = """
INSERT INTO reminders (kind, subject, enterprise_id, due, stage, text)
VALUES (%(kind)s, %(subject)s, %(enterprise_id)s, %(due)s, %(stage)s, %(text)s)
ON CONFLICT (kind, subject, due, stage) DO NOTHING
RETURNING id
"""


@dataclass(frozen=True, slots=True)
class FindingRow:
    """A stored finding."""

    id: int
    inspection_id: int | None
    enterprise_id: str
    item_code: str
    legal_basis: str
    cause: str
    measure: str
    deadline: date | None
    corrected_on_site: bool
    severity: str
    outcome: str
    reasons: list[str]
    created_by: str
    created_at: datetime
    rectified_at: datetime | None


@dataclass(frozen=True, slots=True)
class PublicPenalty:
    """Penalty information as the public sees it."""

    id: int
    enterprise_id: str
    enterprise_name: str
    decision_no: str
    summary: str
    decided_on: date
    published_at: datetime
    publish_until: date


async def prior_violations(
    conn: AsyncConnection[Any], *, enterprise_id: str, item_code: str, since: datetime
) -> list[datetime]:
    """When the enterprise violated the same item since `since`."""
    return await fetch_values(
        conn,
        statement=PRIOR_VIOLATIONS,
        params={"enterprise_id": enterprise_id, "item_code": item_code, "since": since},
    )


async def insert_finding(
    conn: AsyncConnection[Any],
    *,
    draft: FindingDraft,
    decision: Decision,
    enterprise_id: str,
    inspection_id: int | None,
    created_by: str,
) -> int:
    """Store a validated finding with its decision."""
    params = {
        "inspection_id": inspection_id,
        "enterprise_id": enterprise_id,
        "item_code": draft.item_code,
        "legal_basis": draft.legal_basis.strip(),
        "cause": draft.cause.strip(),
        "measure": draft.measure.strip(),
        "deadline": draft.deadline,
        "corrected_on_site": draft.corrected_on_site,
        "severity": draft.severity.value,
        "outcome": decision.outcome.value,
        "reasons": Jsonb(decision.texts()),
        "created_by": created_by,
    }
    finding_id = await fetch_value(conn, statement=INSERT_FINDING, params=params)
    assert finding_id is not None
    return int(finding_id)


async def list_findings(
    conn: AsyncConnection[Any],
    *,
    inspection_id: int | None = None,
    enterprise_id: str | None = None,
) -> list[FindingRow]:
    """Findings of an inspection or an enterprise."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(FindingRow)) as cur:
        await cur.execute(
            SELECT_FINDINGS, {"inspection_id": inspection_id, "enterprise_id": enterprise_id}
        )
        return await cur.fetchall()


async def mark_rectified(conn: AsyncConnection[Any], *, finding_id: int, at: datetime) -> bool:
    """Record that a finding was rectified; False if it already was or does not exist."""
    async with amapped_errors():
        cur = await conn.execute(MARK_RECTIFIED, {"id": finding_id, "at": at})
    return cur.rowcount > 0


async def open_findings_due(
    conn: AsyncConnection[Any], *, until: date, ent: str | None = None
) -> list[OpenFinding]:
    """Unrectified findings whose deadline is on or before `until` (of one enterprise)."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(OpenFinding)) as cur:
        await cur.execute(OPEN_FINDINGS_DUE, {"until": until, "ent": ent})
        return await cur.fetchall()


async def enterprises_with_findings_due(conn: AsyncConnection[Any], *, until: date) -> list[str]:
    """Enterprises with an unrectified finding due on or before `until`."""
    found = await fetch_values(conn, statement=FINDINGS_DUE_ENTERPRISES, params={"until": until})
    return [str(ent) for ent in found]


async def licences(conn: AsyncConnection[Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(credit code, licences) of every registered enterprise that has licences."""
    rows = await fetch_all(conn, statement=LICENCES)
    return [(str(r["credit_code"]), list(r["licences"])) for r in rows]


async def publish_penalty(
    conn: AsyncConnection[Any],
    *,
    enterprise_id: str,
    decision_no: str,
    summary: str,
    decided_on: date,
    publish_until: date,
) -> int:
    """Publish penalty information until `publish_until`."""
    penalty_id = await fetch_value(
        conn,
        statement=INSERT_PENALTY,
        params={
            "enterprise_id": enterprise_id,
            "decision_no": decision_no,
            "summary": summary,
            "decided_on": decided_on,
            "publish_until": publish_until,
        },
    )
    assert penalty_id is not None
    return int(penalty_id)


async def penalties_due(
    conn: AsyncConnection[Any], *, until: date, ent: str | None = None
) -> list[PublishedPenalty]:
    """Published penalties whose period ends on or before `until` (of one enterprise)."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(PublishedPenalty)) as cur:
        await cur.execute(PENALTIES_DUE, {"until": until, "ent": ent})
        return await cur.fetchall()


async def enterprises_with_penalties_due(conn: AsyncConnection[Any], *, until: date) -> list[str]:
    """Enterprises with published penalties whose period ends on or before `until`."""
    found = await fetch_values(conn, statement=PENALTIES_DUE_ENTERPRISES, params={"until": until})
    return [str(ent) for ent in found]


async def public_penalties(
    conn: AsyncConnection[Any], *, today: date, limit: int = 50, offset: int = 0
) -> list[PublicPenalty]:
    """Penalty information currently under publication, newest first."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(PublicPenalty)) as cur:
        await cur.execute(PUBLIC_PENALTIES, {"today": today, "limit": limit, "offset": offset})
        return await cur.fetchall()


async def withdraw_penalties(conn: AsyncConnection[Any], *, ids: list[int], at: datetime) -> int:
    """Withdraw penalties from publication; return how many were withdrawn."""
    if not ids:
        return 0
    async with amapped_errors():
        cur = await conn.execute(WITHDRAW, {"ids": ids, "at": at})
    return cur.rowcount


async def record_reminder(conn: AsyncConnection[Any], *, reminder: Reminder) -> int | None:
    """Store a reminder once; return its id, or None when it was already sent."""
    reminder_id = await fetch_value(
        conn,
        statement=INSERT_REMINDER,
        params={
            "kind": reminder.kind,
            "subject": reminder.subject,
            "enterprise_id": reminder.enterprise_id,
            "due": reminder.due,
            "stage": reminder.stage,
            "text": reminder.text,
        },
    )
    return int(reminder_id) if reminder_id is not None else None
