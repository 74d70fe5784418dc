"""Inspection records: mark a visit done or cancelled, record a finding (首违不罚 applied)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection
from pydantic import TypeAdapter

from config.policy_enforcement import FirstViolation
from domain.clock import utcnow
from domain.enforcement import ChecklistItem, FindingDraft, decide, validate_finding
from domain.errors import RuleViolation, ValidationFailed
from domain.inspection_access import ensure_on_team
from services import evidence
from services.changes import Actor, Audit, record
from services.inspection_teams import acting_member
from storage import enforcement, inspection_results, inspections, users
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
        raise RuleViolation(f"inspection {inspection_id} is already {before.status}")
    if status == "done":
        today = now.astimezone(tz).date()
        if inspected_on is None or inspected_on > today + timedelta(days=1):
            raise ValidationFailed("a done inspection needs inspected_on, not in the future")
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


async def add_finding(
    conn: AsyncConnection[Any],
    *,
    inspection_id: int,
    draft: FindingDraft,
    catalogue: dict[str, ChecklistItem],
    first_violation: FirstViolation,
    tz: ZoneInfo,
    actor: Actor,
    now: datetime | None = None,
) -> FindingRow:
    """Record a finding: refused without legal basis, cause, measure and deadline; the outcome
    applies the first-violation policy (首违不罚) and says why."""
    assert actor.principal is not None, "a finding is recorded by a person"
    inspection = await inspections.get_inspection(conn, inspection_id=inspection_id)
    now = now or utcnow()
    await acting_member(conn, inspection=inspection, actor=actor, today=now.astimezone(tz).date())
    if inspection.status == "cancelled":
        raise RuleViolation(f"inspection {inspection_id} was cancelled")
    validate_finding(draft, catalogue=catalogue, today=now.astimezone(tz).date())
    prior = await enforcement.prior_violations(
        conn,
        enterprise_id=inspection.credit_code,
        item_code=draft.item_code,
        since=now - timedelta(days=first_violation.lookback_days),
    )
    decision = decide(
        draft,
        item=catalogue[draft.item_code],
        prior_violations=prior,
        now=now,
        lookback_days=first_violation.lookback_days,
    )
    finding_id = await enforcement.insert_finding(
        conn,
        draft=draft,
        decision=decision,
        enterprise_id=inspection.credit_code,
        inspection_id=inspection_id,
        created_by=actor.principal.username,
    )
    rows = await enforcement.list_findings(conn, inspection_id=inspection_id)
    stored = next(r for r in rows if r.id == finding_id)
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            action="finding.create",
            target=f"finding:{finding_id}",
            after=_FINDING_JSON.dump_python(stored, mode="json"),
        ),
        changes=[
            (
                "finding",
                inspection.credit_code,
                {"id": finding_id, "inspection_id": inspection_id, "outcome": stored.outcome},
            )
        ],
    )
    return stored


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
        raise RuleViolation(f"inspection {inspection_id} was cancelled")
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
