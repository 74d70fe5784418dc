"""Inspection records: a visit done or cancelled, file evidence (findings: services.findings)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection
from pydantic import TypeAdapter

from domain.clock import utcnow
from domain.errors import RuleViolation, ValidationFailed
from domain.i18n import msg
from domain.inspection_access import ensure_on_team
from services import evidence
from services.changes import Actor, Audit, record
from services.inspection_teams import acting_member
from storage import inspection_results, inspections, users
from storage.enforcement import FindingRow
from storage.evidence_files import EvidenceRow

SHANGHAI = ZoneInfo("Asia/Shanghai")

_FINDING_JSON = TypeAdapter(FindingRow)


async def _ensure_on_team(
    conn: AsyncConnection[Any], inspection: inspections.InspectionRecord, actor: Actor
) -> None:
    """Cancelling: a supervisor or admin, or an inspector of the inspection's team."""
    assert actor.principal is not None, "inspections are changed by a person"
    officer = await users.officer_of(conn, user_id=actor.principal.user_id)
    ensure_on_team(actor.principal, officer_id=officer, team=inspection.staff)


async def set_status(
    conn: AsyncConnection[Any],
    *,
    inspection_id: int,
    status: str,
    inspected_on: date | None,
    actor: Actor,
    tz: ZoneInfo = SHANGHAI,
    now: datetime | None = None,
) -> None:
    """Mark a planned inspection done (on a date, not in the future) or cancelled."""
    before = await inspections.get_inspection(conn, inspection_id=inspection_id)
    now = now or utcnow()
    if status == "done":  # the visit is the team's record: only its officers complete it
        await acting_member(conn, inspection=before, actor=actor, today=now.astimezone(tz).date())
    else:
        await _ensure_on_team(conn, before, actor)
    if before.status != "planned":
        raise RuleViolation(
            msg("inspection.already_in_state", inspection_id=inspection_id, status=before.status)
        )
    if status == "done":
        today = now.astimezone(tz).date()
        if inspected_on is None or inspected_on > today + timedelta(days=1):
            raise ValidationFailed(msg("inspection.date_required"))
    await inspection_results.set_status(
        conn, inspection_id=inspection_id, status=status, inspected_on=inspected_on
    )
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            action=f"inspection.{status}",
            target=f"inspection:{inspection_id}",
            before={"status": before.status},
            after={
                "status": status,
                "inspected_on": inspected_on.isoformat() if inspected_on else None,
            },
        ),
        changes=[("inspection", before.credit_code, {"id": inspection_id, "status": status})],
    )


async def add_evidence(
    conn: AsyncConnection[Any],
    *,
    inspection_id: int,
    filename: str,
    data: bytes,
    note: str,
    actor: Actor,
    tz: ZoneInfo = SHANGHAI,
    now: datetime | None = None,
) -> EvidenceRow:
    """File a photo or document as evidence of an inspection: its team's officers only."""
    inspection = await inspections.get_inspection(conn, inspection_id=inspection_id)
    today = (now or utcnow()).astimezone(tz).date()
    await acting_member(conn, inspection=inspection, actor=actor, today=today)
    if inspection.status == "cancelled":
        raise RuleViolation(msg("inspection.cancelled", inspection_id=inspection_id))
    return await evidence.store(
        conn,
        enterprise_id=inspection.credit_code,
        subject_kind="inspection",
        subject_id=str(inspection_id),
        filename=filename,
        data=data,
        note=note,
        actor=actor,
    )
