"""Inspection records and their findings (legal basis, cause, measure, deadline; 首违不罚)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path as FsPath
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from api.common import IdPath, client_ip
from api.deps import ConnDep, PrincipalDep, SettingsDep, ensure_enterprise_access, require_roles
from api.errors import ERROR_RESPONSES
from config.policy_enforcement import FirstViolation, load_catalogue, load_first_violation
from domain.clock import utcnow
from domain.enforcement import ChecklistItem, FindingDraft, Severity, decide, validate_finding
from domain.errors import RuleViolation, ValidationFailed
from domain.users import Principal, Role
from storage import audit, enforcement, inspection_results, inspections
from storage.enforcement import FindingRow
from storage.inspections import InspectionRecord

router = APIRouter(tags=["inspections"], responses=ERROR_RESPONSES)

Recorder = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR, Role.INSPECTOR))]


@lru_cache(maxsize=4)
def _catalogue(policy_dir: FsPath) -> dict[str, ChecklistItem]:
    return load_catalogue(policy_dir).as_domain()


@lru_cache(maxsize=4)
def _first_violation(policy_dir: FsPath) -> FirstViolation:
    return load_first_violation(policy_dir)


class FindingIn(BaseModel):
    """A finding: the checklist item, its legal basis, the cause, the measure and a deadline."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"item_code": "SP-TRAIN-01", "legal_basis": "安全生产法 第二十八条",
                 "cause": "新入职员工未经三级安全教育即上岗", "measure": "补充培训并建立档案",
                 "deadline": "2026-12-31", "severity": "minor"}
            ]
        },
    )  # fmt: skip
    item_code: str = Field(min_length=1, max_length=40)
    legal_basis: str = Field(max_length=500)
    cause: str = Field(max_length=2000)
    measure: str = Field(max_length=2000)
    deadline: date | None = Field(default=None, description="required unless corrected on site")
    severity: Severity
    accident: bool = False
    illegal_production: bool = False
    corrected_on_site: bool = False


class FindingOut(BaseModel):
    """A stored finding with its outcome (guidance = 首违不罚) and the reasons for it."""

    id: int
    inspection_id: int | None = None
    enterprise_id: str
    item_code: str
    legal_basis: str
    cause: str
    measure: str
    deadline: date | None = None
    corrected_on_site: bool
    severity: str
    outcome: str
    reasons: list[str]
    created_by: str
    created_at: datetime
    rectified_at: datetime | None = None


class InspectionOut(BaseModel):
    """An inspection with its staff and findings."""

    id: int
    credit_code: str
    enterprise_name: str
    source: str
    draw_id: int | None = None
    departments: list[str]
    planned_from: date
    planned_to: date
    inspected_on: date | None = None
    status: str
    staff: list[str]
    leader: str | None = None
    findings: list[FindingOut]


class InspectionPatch(BaseModel):
    """Record that the visit took place (with its date) or was cancelled."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["done", "cancelled"]
    inspected_on: date | None = None


class ChecklistEntryOut(BaseModel):
    """A checklist item and whether a first minor violation of it may be let off (首违不罚)."""

    code: str
    title: str
    legal_basis: str
    penalty_basis: str | None = None
    first_violation_eligible: bool


class Checklist(BaseModel):
    """The checklist catalogue and the first-violation policy."""

    items: list[ChecklistEntryOut]
    lookback_days: int
    max_rectify_days: int
    excluded: list[str]


def _finding(row: FindingRow) -> FindingOut:
    return FindingOut.model_validate(row, from_attributes=True)


async def _visible(conn: ConnDep, principal: Principal, inspection_id: int) -> InspectionRecord:
    record = await inspections.get_inspection(conn, inspection_id=inspection_id)
    ensure_enterprise_access(principal, record.credit_code)
    return record


async def _out(conn: ConnDep, record: InspectionRecord) -> InspectionOut:
    rows = await enforcement.list_findings(conn, inspection_id=record.id)
    return InspectionOut(
        **{k: getattr(record, k) for k in InspectionOut.model_fields if k != "findings"},
        findings=[_finding(r) for r in rows],
    )


@router.get("/api/v1/checklist", response_model=Checklist)
async def checklist(_: PrincipalDep, settings: SettingsDep) -> Checklist:
    """The checklist catalogue, with the first-violation (首违不罚) list and its policy."""
    items = _catalogue(settings.policy_dir)
    fv = _first_violation(settings.policy_dir)
    return Checklist(
        items=[ChecklistEntryOut.model_validate(i, from_attributes=True) for i in items.values()],
        lookback_days=fv.lookback_days,
        max_rectify_days=fv.max_rectify_days,
        excluded=list(fv.excluded),
    )


@router.get("/api/v1/inspections/{inspection_id}", response_model=InspectionOut)
async def get_inspection(
    inspection_id: IdPath, principal: PrincipalDep, conn: ConnDep
) -> InspectionOut:
    """An inspection record and its findings (an enterprise account: only its own)."""
    return await _out(conn, await _visible(conn, principal, inspection_id))


@router.patch("/api/v1/inspections/{inspection_id}", response_model=InspectionOut)
async def update_inspection(
    inspection_id: IdPath, body: InspectionPatch, who: Recorder, conn: ConnDep, request: Request
) -> InspectionOut:
    """Mark an inspection done (on a date, not in the future) or cancelled."""
    before = await _visible(conn, who, inspection_id)
    if before.status != "planned":
        raise RuleViolation(f"inspection {inspection_id} is already {before.status}")
    day = body.inspected_on
    if body.status == "done":
        today = utcnow().date()
        if day is None or day > today + timedelta(days=1):
            raise ValidationFailed("a done inspection needs inspected_on, not in the future")
    await inspection_results.set_status(
        conn, inspection_id=inspection_id, status=body.status, inspected_on=day
    )
    await audit.record(
        conn,
        principal=who,
        action=f"inspection.{body.status}",
        target=f"inspection:{inspection_id}",
        before={"status": before.status},
        after=body.model_dump(mode="json"),
        client_ip=client_ip(request),
    )
    return await _out(conn, await inspections.get_inspection(conn, inspection_id=inspection_id))


@router.post(
    "/api/v1/inspections/{inspection_id}/findings", response_model=FindingOut, status_code=201
)
async def add_finding(
    inspection_id: IdPath,
    body: FindingIn,
    who: Recorder,
    conn: ConnDep,
    settings: SettingsDep,
    request: Request,
) -> FindingOut:
    """Record a finding; refused without legal basis, cause, measure and deadline. The
    outcome applies the first-violation policy (首违不罚) and says why."""
    record = await _visible(conn, who, inspection_id)
    if record.status == "cancelled":
        raise RuleViolation(f"inspection {inspection_id} was cancelled")
    catalogue = _catalogue(settings.policy_dir)
    policy = _first_violation(settings.policy_dir)
    now = utcnow()
    draft = FindingDraft(**body.model_dump())
    validate_finding(draft, catalogue=catalogue, today=now.astimezone(settings.tz).date())
    prior = await enforcement.prior_violations(
        conn,
        enterprise_id=record.credit_code,
        item_code=draft.item_code,
        since=now - timedelta(days=policy.lookback_days),
    )
    decision = decide(
        draft,
        item=catalogue[draft.item_code],
        prior_violations=prior,
        now=now,
        lookback_days=policy.lookback_days,
    )
    finding_id = await enforcement.insert_finding(
        conn,
        draft=draft,
        decision=decision,
        enterprise_id=record.credit_code,
        inspection_id=inspection_id,
        created_by=who.username,
    )
    rows = await enforcement.list_findings(conn, inspection_id=inspection_id)
    stored = next(r for r in rows if r.id == finding_id)
    out = _finding(stored)
    await audit.record(
        conn,
        principal=who,
        action="finding.create",
        target=f"finding:{finding_id}",
        after=out.model_dump(mode="json"),
        client_ip=client_ip(request),
    )
    return out
