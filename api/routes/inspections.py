"""Inspection records and their findings (legal basis, cause, measure, deadline; 首违不罚)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from api.common import IdPath, client_ip
from api.deps import (
    ConnDep,
    PoliciesDep,
    PrincipalDep,
    SettingsDep,
    ensure_enterprise_access,
    require_roles,
)
from api.errors import ERROR_RESPONSES
from config.policy import Policies
from domain.advisor import MITIGATIONS, Harm
from domain.enforcement import Severity
from domain.findings import FindingInput, listed_items
from domain.i18n import render
from domain.inspection_access import role_label
from domain.users import Principal, Role
from services import findings as finding_service
from services import inspections as services
from services.changes import Actor
from storage import enterprises, findings, inspection_lists, inspection_teams, inspections
from storage.findings import FindingRecord
from storage.inspections import InspectionRecord

MITIGATION_CODES = tuple(MITIGATIONS)

router = APIRouter(tags=["inspections"], responses=ERROR_RESPONSES)

Recorder = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR, Role.INSPECTOR))]
#: Findings are recorded by the team's officers only (services check the team).
TeamOfficer = Annotated[Principal, Depends(require_roles(Role.INSPECTOR))]


class FindingIn(BaseModel):
    """A finding (清单式执法): the checklist item, its legal basis (one of the item's articles, or
    free text with `basis_reason`, flagged), the cause, the measure, a deadline, the grading and
    the facts the advisor weighs."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"item_code": "SP-TRAIN-01", "legal_basis": "安全生产法 第二十八条",
                 "cause": "新入职员工3人未经三级安全教育即上岗作业",
                 "measure": "组织补训并考核合格后上岗，建立培训档案",
                 "deadline": "2026-12-31", "severity": "minor", "harm": "none"}
            ]
        },
    )  # fmt: skip
    item_code: str = Field(min_length=1, max_length=40)
    legal_basis: str = Field(max_length=500)
    basis_reason: str = Field(default="", max_length=1000, description="why a free-text basis")
    cause: str = Field(max_length=2000)
    measure: str = Field(max_length=2000)
    deadline: date | None = Field(default=None, description="required unless corrected on site")
    severity: Severity
    harm: Harm | None = Field(default=None, description="not stated: never assumed none")
    hazard_criterion: str | None = Field(default=None, max_length=40)
    criterion_text: str = Field(default="", max_length=1000)
    accident: bool = False
    illegal_production: bool = False
    bad_social_impact: bool = False
    corrected_on_site: bool = False
    mitigations: list[Literal[MITIGATION_CODES]] = Field(default_factory=list, max_length=5)  # type: ignore[valid-type]


class CheckOut(BaseModel):
    """One rule the advisor checked, with its result, in zh-CN."""

    rule: str
    passed: bool
    text: str


class FindingOut(BaseModel):
    """A stored finding with its grading, the advisor's recommendation and every rule it
    checked, the officer's decision, verification and the enterprise's statement."""

    id: int
    inspection_id: int | None = None
    enterprise_id: str
    item_code: str
    legal_basis: str
    penalty_basis: str | None = None
    basis_free_text: bool
    basis_reason: str
    cause: str
    measure: str
    deadline: date | None = None
    corrected_on_site: bool
    severity: str
    hazard_standard: str | None = None
    hazard_criterion: str | None = None
    harm: str | None = None
    outcome: str
    recommendation: str | None = None
    advice: list[CheckOut]
    policy_version: str | None = None
    provisional: bool
    verify_by: date | None = None
    decision: str | None = None
    decision_reason: str | None = None
    decided_by: str | None = None
    verified_on: date | None = None
    lapsed_at: datetime | None = None
    rectified_at: datetime | None = None
    statement: str | None = None
    statement_note: str
    order_id: int | None = None
    reinspection_id: int | None = None
    reinspection_result: str | None = None
    reinspection_method: str | None = None
    reinspection_note: str = ""
    closed_at: datetime | None = None
    created_by: str
    created_at: datetime


class MemberOut(BaseModel):
    """A person on the team as the record shows them (行政处罚法 第五十五条: certificates);
    experts are 辅助人员."""

    officer_id: str
    role: str
    role_label: str
    name: str
    certificate_no: str
    certificate_valid_to: date | None = None
    auxiliary: bool


class ChecklistEntryOut(BaseModel):
    """A checklist item and whether a first minor violation of it may be let off (首违不罚)."""

    code: str
    title: str
    legal_basis: str
    penalty_basis: str | None = None
    first_violation_eligible: bool


class ListItemOut(BaseModel):
    """An item of a drawn inspection's list (抽查事项清单) with the checklist-catalogue entries a
    finding on it cites (their legal basis and penalty article)."""

    item_id: str
    item: str
    sub_item: str
    legal_basis: str
    checklist: list[ChecklistEntryOut]


class CriterionOut(BaseModel):
    """A criterion of the sector's 重大事故隐患判定标准: code, clause, text, whom it names."""

    code: str
    clause: str
    text: str
    scope: str


class HazardCriteriaOut(BaseModel):
    """The 判定标准 of the enterprise's sector, and the clauses the config could not list (graded
    with a free-text criterion)."""

    title: str
    source: str
    version: int
    criteria: list[CriterionOut]
    missing: list[str]


class InspectionOut(BaseModel):
    """An inspection with its staff and findings; a drawn one with its inspection-item list, to
    which its findings are restricted (`findings_from_list`)."""

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
    reason: str = ""
    follow_up_of: int | None = None
    team: list[MemberOut]
    findings: list[FindingOut]
    findings_from_list: bool
    list_items: list[ListItemOut]
    hazard_criteria: HazardCriteriaOut | None = None


class InspectionPatch(BaseModel):
    """Record that the visit took place (with its date) or was cancelled."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["done", "cancelled"]
    inspected_on: date | None = None


class Checklist(BaseModel):
    """The checklist catalogue and the first-violation policy."""

    items: list[ChecklistEntryOut]
    lookback_days: int
    max_rectify_days: int
    excluded: list[str]


def finding_out(row: FindingRecord) -> FindingOut:
    """The API shape of a stored finding."""
    return FindingOut.model_validate(row, from_attributes=True)


async def _visible(conn: ConnDep, principal: Principal, inspection_id: int) -> InspectionRecord:
    record = await inspections.get_inspection(conn, inspection_id=inspection_id)
    ensure_enterprise_access(principal, record.credit_code)
    return record


def _list_items(rows: list[inspection_lists.ListItem], policies: Policies) -> list[ListItemOut]:
    catalogue = policies.catalogue.as_domain()
    return [
        ListItemOut(
            item_id=r.item_id,
            item=r.item,
            sub_item=r.sub_item,
            legal_basis=r.legal_basis,
            checklist=[
                ChecklistEntryOut.model_validate(catalogue[c], from_attributes=True)
                for c in r.checklist_codes
                if c in catalogue  # a code the catalogue no longer has is not offered
            ],
        )
        for r in rows
    ]


async def _hazard_criteria(
    conn: ConnDep, record: InspectionRecord, policies: Policies
) -> HazardCriteriaOut | None:
    enterprise = await enterprises.get(conn, credit_code=record.credit_code)
    standard = policies.hazards.for_sector(enterprise.sector) if enterprise else None
    if standard is None:
        return None
    return HazardCriteriaOut(
        title=standard.title,
        source=standard.source,
        version=standard.version,
        criteria=[
            CriterionOut(code=c.code, clause=c.clause, text=c.text, scope=c.scope)
            for c in standard.criteria.values()
        ],
        missing=[m.start for m in standard.missing],
    )


async def _out(conn: ConnDep, record: InspectionRecord, policies: Policies) -> InspectionOut:
    rows = await findings.for_inspection(conn, inspection_id=record.id)
    team = await inspection_teams.team(conn, inspection_id=record.id)
    listed = await inspection_lists.for_inspection(conn, inspection_id=record.id)
    return InspectionOut(
        **{
            k: getattr(record, k)
            for k in InspectionOut.model_fields
            if k not in ("findings", "team", "findings_from_list", "list_items", "hazard_criteria")
        },
        findings_from_list=listed_items(record.source, ()) is not None,
        list_items=_list_items(listed, policies),
        hazard_criteria=await _hazard_criteria(conn, record, policies),
        team=[
            MemberOut(
                officer_id=m.officer_id,
                role=m.role,
                role_label=render(role_label(m.role)),
                name=m.name,
                certificate_no=m.certificate_no,
                certificate_valid_to=m.certificate_valid_to,
                auxiliary=m.auxiliary,
            )
            for m in team
        ],
        findings=[finding_out(r) for r in rows],
    )


@router.get("/api/v1/checklist", response_model=Checklist)
async def checklist(_: PrincipalDep, policies: PoliciesDep) -> Checklist:
    """The checklist catalogue, with the first-violation (首违不罚) list and its policy."""
    items = policies.catalogue.as_domain()
    fv = policies.first_violation
    return Checklist(
        items=[ChecklistEntryOut.model_validate(i, from_attributes=True) for i in items.values()],
        lookback_days=fv.lookback_days,
        max_rectify_days=fv.max_rectify_days,
        excluded=list(fv.excluded),
    )


@router.get("/api/v1/inspections/{inspection_id}", response_model=InspectionOut)
async def get_inspection(
    inspection_id: IdPath, principal: PrincipalDep, conn: ConnDep, policies: PoliciesDep
) -> InspectionOut:
    """An inspection record and its findings (an enterprise account: only its own); a drawn one
    with its inspection-item list and the catalogue entries offered for findings."""
    return await _out(conn, await _visible(conn, principal, inspection_id), policies)


@router.patch("/api/v1/inspections/{inspection_id}", response_model=InspectionOut)
async def update_inspection(
    inspection_id: IdPath,
    body: InspectionPatch,
    who: Recorder,
    conn: ConnDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    request: Request,
) -> InspectionOut:
    """Mark an inspection done (on a date, not in the future) or cancelled."""
    await _visible(conn, who, inspection_id)
    await services.set_status(
        conn,
        inspection_id=inspection_id,
        status=body.status,
        inspected_on=body.inspected_on,
        actor=Actor(who, client_ip(request)),
        tz=settings.tz,
    )
    return await _out(
        conn, await inspections.get_inspection(conn, inspection_id=inspection_id), policies
    )


@router.post(
    "/api/v1/inspections/{inspection_id}/findings", response_model=FindingOut, status_code=201
)
async def add_finding(
    inspection_id: IdPath,
    body: FindingIn,
    who: TeamOfficer,
    conn: ConnDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    request: Request,
) -> FindingOut:
    """Record a finding (the inspection's team only); refused field by field in zh-CN. The
    advisor recommends 不予处罚, 首违不罚, 从轻/减轻 or 立案 and lists every rule it checked."""
    await _visible(conn, who, inspection_id)
    data = body.model_dump()
    data["mitigations"] = frozenset(data["mitigations"])
    stored = await finding_service.record_finding(
        conn,
        inspection_id=inspection_id,
        finding=FindingInput(**data),
        rules=rules_of(policies),
        actor=Actor(who, client_ip(request)),
        tz=settings.tz,
    )
    return finding_out(stored)


def rules_of(policies: Policies) -> finding_service.Rules:
    """The policies a finding is judged by."""
    return finding_service.Rules(policies.catalogue, policies.first_violation, policies.hazards)
