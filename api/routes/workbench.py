"""The inspector's workbench over HTTP: inspections made by hand (重点、举报、复查), team changes
by a supervisor with a reason, and evidence files (photos, documents) of an inspection."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Request, Response, UploadFile
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
from api.routes.inspections import FindingOut, finding_out
from domain.advisor import Recommendation
from domain.clock import utcnow
from domain.evidence import DEFAULT_LIMITS
from domain.users import Principal, Role
from services import evidence as evidence_service
from services import findings as finding_service
from services import inspection_teams
from services import inspections as inspection_service
from services.changes import Actor
from storage import evidence_files, findings, inspections, users
from storage import inspection_teams as teams_storage
from storage.evidence_files import EvidenceRow

router = APIRouter(tags=["workbench"], responses=ERROR_RESPONSES)

Overseer = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR))]
Inspector = Annotated[Principal, Depends(require_roles(Role.INSPECTOR))]
OFFICER_ID = r"^[A-Za-z0-9_.:-]{1,64}$"
FindingId = Annotated[int, Path(ge=1, le=2**62, description="finding id")]


class StaffIn(BaseModel):
    """One person on a team: leader, member (officers) or expert (辅助人员)."""

    model_config = ConfigDict(extra="forbid")
    officer_id: str = Field(pattern=OFFICER_ID)
    role: Literal["leader", "member", "expert"]


class InspectionCreate(BaseModel):
    """An inspection made by hand: targeted (重点), complaint (举报) or follow-up (复查)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"credit_code": "91652301MA7XXXXXXY", "source": "complaint",
                 "reason": "12345 热线举报夜间违规动火作业", "planned_from": "2026-12-04",
                 "planned_to": "2026-12-10",
                 "staff": [{"officer_id": "ZF-001", "role": "leader"},
                           {"officer_id": "ZF-002", "role": "member"}]}
            ]
        },
    )  # fmt: skip
    credit_code: str = Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")
    source: Literal["targeted", "complaint", "follow_up"]
    reason: str = Field(max_length=1000)
    planned_from: date
    planned_to: date
    staff: list[StaffIn] = Field(min_length=1, max_length=20)
    follow_up_of: int | None = Field(default=None, ge=1)


class TeamChange(BaseModel):
    """A new team for a planned inspection and why (audited)."""

    model_config = ConfigDict(extra="forbid")
    staff: list[StaffIn] = Field(min_length=1, max_length=20)
    reason: str = Field(max_length=1000)


class Created(BaseModel):
    """The id of what was created."""

    id: int


class MemberOut(BaseModel):
    """A person on the team as the record shows them (行政处罚法 第五十五条: certificates)."""

    officer_id: str
    role: str
    name: str
    certificate_no: str
    certificate_valid_to: date | None = None
    auxiliary: bool


class EvidenceOut(BaseModel):
    """An evidence file's description (download it at `url`)."""

    id: int
    subject_kind: str
    subject_id: str
    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    note: str
    uploaded_by: str
    uploaded_at: datetime
    url: str


def evidence_out(row: EvidenceRow) -> EvidenceOut:
    """The public description of a stored file."""
    return EvidenceOut(
        **{k: getattr(row, k) for k in EvidenceOut.model_fields if k != "url"},
        url=f"/api/v1/evidence/{row.id}",
    )


class MyInspectionOut(BaseModel):
    """An inspection on the signed-in officer's list, bucketed for the workbench."""

    id: int
    credit_code: str
    enterprise_name: str
    source: str
    planned_from: date
    planned_to: date
    inspected_on: date | None = None
    status: str
    role: str
    bucket: Literal["overdue", "today", "week", "later", "done"]


@router.get("/api/v1/my/inspections", response_model=list[MyInspectionOut])
async def my_inspections(
    who: Inspector, conn: ConnDep, settings: SettingsDep
) -> list[MyInspectionOut]:
    """The inspections of the signed-in inspector's team: overdue, today, this week, later."""
    officer = await users.officer_of(conn, user_id=who.user_id)
    if officer is None:
        return []
    today = utcnow().astimezone(settings.tz).date()
    rows = await teams_storage.for_officer(conn, officer_id=officer)
    return [
        MyInspectionOut(
            **{k: getattr(r, k) for k in MyInspectionOut.model_fields if k != "bucket"},
            bucket=_bucket(r.status, r.planned_from, r.planned_to, today),
        )
        for r in rows
    ]


def _bucket(
    status: str, start: date, end: date, today: date
) -> Literal["overdue", "today", "week", "later", "done"]:
    if status == "done":
        return "done"
    if end < today:
        return "overdue"
    if start <= today:
        return "today"
    return "week" if (start - today).days < 7 else "later"


@router.post("/api/v1/inspections", response_model=Created, status_code=201)
async def create_inspection(
    body: InspectionCreate,
    who: Overseer,
    conn: ConnDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    request: Request,
) -> Created:
    """Make a targeted, complaint or follow-up inspection with its team (counts toward the
    enterprise's yearly cap; refused once the cap of its year is taken)."""
    new_id = await inspection_teams.create_by_hand(
        conn,
        credit_code=body.credit_code,
        source=body.source,
        reason=body.reason,
        planned_from=body.planned_from,
        planned_to=body.planned_to,
        staff=[(s.officer_id, s.role) for s in body.staff],
        follow_up_of=body.follow_up_of,
        yearly_cap=policies.sampling.defaults.yearly_cap.value,
        actor=Actor(who, client_ip(request)),
        today=utcnow().astimezone(settings.tz).date(),
    )
    return Created(id=new_id)


@router.put("/api/v1/inspections/{inspection_id}/team", response_model=list[MemberOut])
async def change_team(
    inspection_id: IdPath,
    body: TeamChange,
    who: Overseer,
    conn: ConnDep,
    settings: SettingsDep,
    request: Request,
) -> list[MemberOut]:
    """Replace a planned inspection's team (a supervisor, with a reason; audited)."""
    team = await inspection_teams.change_team(
        conn,
        inspection_id=inspection_id,
        staff=[(s.officer_id, s.role) for s in body.staff],
        reason=body.reason,
        actor=Actor(who, client_ip(request)),
        today=utcnow().astimezone(settings.tz).date(),
    )
    return [MemberOut.model_validate(m, from_attributes=True) for m in team]


@router.post(
    "/api/v1/inspections/{inspection_id}/evidence", response_model=EvidenceOut, status_code=201
)
async def upload_evidence(
    inspection_id: IdPath,
    file: UploadFile,
    who: Inspector,
    conn: ConnDep,
    settings: SettingsDep,
    request: Request,
    note: Annotated[str, Form(max_length=500)] = "",
) -> EvidenceOut:
    """File a photo or document (JPEG, PNG, WebP, PDF; ≤ 10 MiB) as evidence: the team only."""
    row = await inspection_service.add_evidence(
        conn,
        inspection_id=inspection_id,
        filename=file.filename or "",
        data=await file.read(DEFAULT_LIMITS.max_bytes + 1),
        note=note,
        actor=Actor(who, client_ip(request)),
        tz=settings.tz,
    )
    return evidence_out(row)


@router.get("/api/v1/inspections/{inspection_id}/evidence", response_model=list[EvidenceOut])
async def list_evidence(
    inspection_id: IdPath, principal: PrincipalDep, conn: ConnDep
) -> list[EvidenceOut]:
    """The evidence filed for an inspection (an enterprise account: only its own)."""
    record = await inspections.get_inspection(conn, inspection_id=inspection_id)
    ensure_enterprise_access(principal, record.credit_code)
    rows = await evidence_files.for_subject(
        conn, subject_kind="inspection", subject_ids=[str(inspection_id)]
    )
    return [evidence_out(r) for r in rows]


@router.get(
    "/api/v1/evidence/{evidence_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download_evidence(
    evidence_id: Annotated[int, Path(ge=1, le=2**62)], principal: PrincipalDep, conn: ConnDep
) -> Response:
    """One evidence file as stored (staff, or the file's own enterprise); its SHA-256 in a
    header so a reader can check it."""
    row, data = await evidence_service.read(conn, evidence_id=evidence_id, principal=principal)
    return Response(
        content=data,
        media_type=row.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
            "X-Content-SHA256": row.sha256,
            "X-Content-Type-Options": "nosniff",
        },
    )


class DecisionIn(BaseModel):
    """The officer's decision: the recommendation confirmed, or another with a written reason."""

    model_config = ConfigDict(extra="forbid")
    decision: Recommendation
    reason: str | None = Field(default=None, max_length=1000)


class StatementIn(BaseModel):
    """The enterprise representative's agreement or objection (written down) at the closing."""

    model_config = ConfigDict(extra="forbid")
    statement: Literal["agree", "object"]
    note: str = Field(default="", max_length=1000)


@router.post("/api/v1/findings/{finding_id}/decision", response_model=FindingOut)
async def decide_finding(
    finding_id: FindingId,
    body: DecisionIn,
    who: Inspector,
    conn: ConnDep,
    settings: SettingsDep,
    request: Request,
) -> FindingOut:
    """Confirm the advisor's recommendation or override it with a reason (supervisors see
    overrides); an exclusion is never overridden to 不予处罚/首违不罚."""
    row = await finding_service.decide(
        conn,
        finding_id=finding_id,
        decision=body.decision,
        reason=body.reason,
        actor=Actor(who, client_ip(request)),
        tz=settings.tz,
    )
    return finding_out(row)


@router.post("/api/v1/findings/{finding_id}/statement", response_model=FindingOut)
async def finding_statement(
    finding_id: FindingId,
    body: StatementIn,
    who: Inspector,
    conn: ConnDep,
    settings: SettingsDep,
    request: Request,
) -> FindingOut:
    """Record the enterprise's agreement or objection to a finding at the closing step."""
    row = await finding_service.state(
        conn,
        finding_id=finding_id,
        statement=body.statement,
        note=body.note,
        actor=Actor(who, client_ip(request)),
        tz=settings.tz,
    )
    return finding_out(row)


@router.get("/api/v1/findings/{finding_id}", response_model=FindingOut)
async def get_finding(finding_id: FindingId, principal: PrincipalDep, conn: ConnDep) -> FindingOut:
    """One finding with the advisor's checks (an enterprise account: only its own)."""
    row = await findings.get(conn, finding_id=finding_id)
    ensure_enterprise_access(principal, row.enterprise_id)
    return finding_out(row)
