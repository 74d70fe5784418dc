"""The rectification loop over HTTP: the order (责令限期整改指令书), the enterprise's
acknowledgement, evidence and extension requests, a supervisor's decision, 复查 closing each
finding, and enforcement measures (flexible instruments, coercive measures with preconditions)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request, UploadFile
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

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
from api.routes.workbench import EvidenceOut, FindingId, evidence_out
from domain.evidence import DEFAULT_LIMITS
from domain.rectification import MEASURE_KINDS
from domain.users import Principal, Role
from services import measures as measure_service
from services import rectification as service
from services.changes import Actor
from storage import evidence_files, findings
from storage import rectification as orders
from storage.rectification import ExtensionRow, MeasureRow, OrderRow

router = APIRouter(tags=["rectification"], responses=ERROR_RESPONSES)

Inspector = Annotated[Principal, Depends(require_roles(Role.INSPECTOR))]
Overseer = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR))]
Enterprise = Annotated[Principal, Depends(require_roles(Role.ENTERPRISE))]
OrderId = Annotated[int, Path(ge=1, le=2**62, description="rectification order id")]
ExtensionId = Annotated[int, Path(ge=1, le=2**62, description="extension request id")]
MeasureId = Annotated[int, Path(ge=1, le=2**62, description="measure id")]
MEASURE_LITERAL = tuple(MEASURE_KINDS)


async def _own_order(order_id: OrderId, who: Enterprise, conn: ConnDep) -> Principal:
    """The enterprise account, if the order is its own: checked before the body is read, so a
    guessed id of another enterprise is refused (403) whatever the body."""
    order = await orders.get_order(conn, order_id=order_id)
    ensure_enterprise_access(who, order.enterprise_id)
    return who


OwnOrder = Annotated[Principal, Depends(_own_order)]


class ExtensionOut(BaseModel):
    """An extension request and its decision."""

    id: int
    order_id: int
    requested_deadline: date
    reason: str
    requested_by: str
    requested_at: datetime
    state: str
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    granted_deadline: date | None = None


class OrderOut(BaseModel):
    """A rectification order with its findings, the enterprise's evidence and extensions."""

    id: int
    inspection_id: int
    enterprise_id: str
    doc_no: str
    deadline: date
    state: str
    issued_by: str
    issued_at: datetime
    acknowledged_at: datetime | None = None
    submitted_at: datetime | None = None
    escalated_at: datetime | None = None
    closed_at: datetime | None = None
    findings: list[FindingOut] = Field(default_factory=list)
    evidence: list[EvidenceOut] = Field(default_factory=list)
    extensions: list[ExtensionOut] = Field(default_factory=list)


class ExtensionIn(BaseModel):
    """The enterprise asks for a later deadline, with a reason."""

    model_config = ConfigDict(extra="forbid")
    requested_deadline: date
    reason: str = Field(max_length=1000)


class ExtensionDecision(BaseModel):
    """A supervisor's decision on an extension request, with a reason."""

    model_config = ConfigDict(extra="forbid")
    approve: bool
    reason: str = Field(max_length=1000)
    deadline: date | None = Field(
        default=None, description="on approval: the deadline granted (default: the one requested)"
    )


class ReinspectionIn(BaseModel):
    """A 复查 result: on site, or by video with the session whose recording is the evidence."""

    model_config = ConfigDict(extra="forbid")
    inspection_id: int = Field(ge=1, description="the original or the follow-up inspection")
    result: Literal["passed", "failed"]
    method: Literal["onsite", "video"] = "onsite"
    video_session_id: str | None = Field(default=None, max_length=100)
    note: str = Field(default="", max_length=2000)


class MeasureIn(BaseModel):
    """A measure on a finding; coercive ones state their preconditions (measure 3)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal[MEASURE_LITERAL]  # type: ignore[valid-type]
    content: str = Field(max_length=2000)
    safety_not_ensured: bool = False
    imminent_danger: bool = False
    head_approval: str = Field(default="", max_length=200)
    meeting_at: AwareDatetime | None = Field(
        default=None, description="行政约谈 only: when (for its 约谈通知书)"
    )
    meeting_place: str = Field(default="", max_length=200, description="行政约谈 only: where")
    meeting_attendee: str = Field(
        default="", max_length=200, description="行政约谈 only: who is summoned (name, post)"
    )


class MeasureOut(BaseModel):
    """A recorded measure."""

    id: int
    finding_id: int
    kind: str
    content: str
    safety_not_ensured: bool
    imminent_danger: bool
    head_approval: str
    refused_at: datetime | None = None
    refusal_note: str
    doc_no: str | None = None
    created_by: str
    created_at: datetime
    meeting_at: datetime | None = None
    meeting_place: str = ""
    meeting_attendee: str = ""
    held_at: datetime | None = None
    attendees: str = ""
    minutes: str = ""


class RefusalIn(BaseModel):
    """The enterprise's refusal of a suspension or stop decision, as the team recorded it."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field(max_length=1000)


class Created(BaseModel):
    """The id of what was created."""

    id: int


async def _order_out(conn: ConnDep, order: OrderRow) -> OrderOut:
    rows = await findings.for_order(conn, order_id=order.id)
    files = await evidence_files.for_subject(
        conn, subject_kind="rectification", subject_ids=[str(order.id)]
    )
    exts = await orders.extensions(conn, order_id=order.id)
    return OrderOut(
        **{k: getattr(order, k) for k in OrderOut.model_fields if hasattr(order, k)},
        findings=[finding_out(r) for r in rows],
        evidence=[evidence_out(f) for f in files],
        extensions=[_ext(e) for e in exts],
    )


def _ext(e: ExtensionRow) -> ExtensionOut:
    return ExtensionOut.model_validate(e, from_attributes=True)


def _measure(m: MeasureRow) -> MeasureOut:
    return MeasureOut.model_validate(m, from_attributes=True)


async def _visible_order(conn: ConnDep, principal: Principal, order_id: int) -> OrderRow:
    order = await orders.get_order(conn, order_id=order_id)
    ensure_enterprise_access(principal, order.enterprise_id)
    return order


@router.post(
    "/api/v1/inspections/{inspection_id}/rectification", response_model=OrderOut, status_code=201
)
async def issue_order(
    inspection_id: IdPath,
    who: Inspector,
    conn: ConnDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    request: Request,
) -> OrderOut:
    """Issue the 责令限期整改指令书 for the inspection's open findings (the team only): sent to the
    site as an MQTT notice and shown on the enterprise's pages."""
    order = await service.issue(
        conn,
        inspection_id=inspection_id,
        documents=policies.documents,
        monitoring=policies.monitoring,
        actor=Actor(who, client_ip(request)),
        tz=settings.tz,
    )
    return await _order_out(conn, order)


@router.get("/api/v1/rectifications", response_model=list[OrderOut])
async def list_orders(
    principal: PrincipalDep,
    conn: ConnDep,
    state: Annotated[str | None, Query(pattern=r"^[a-z]{1,20}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[OrderOut]:
    """Rectification orders, newest first (an enterprise account: its own only)."""
    own = principal.enterprise_id if principal.role is Role.ENTERPRISE else None
    if principal.role is Role.ENTERPRISE and own is None:
        return []
    rows = await orders.list_orders(
        conn, enterprise_id=own, state=state, limit=limit, offset=offset
    )
    return [await _order_out(conn, o) for o in rows]


@router.get("/api/v1/rectifications/{order_id}", response_model=OrderOut)
async def get_order(order_id: OrderId, principal: PrincipalDep, conn: ConnDep) -> OrderOut:
    """One order with its findings, evidence and extension requests."""
    return await _order_out(conn, await _visible_order(conn, principal, order_id))


@router.post("/api/v1/rectifications/{order_id}/ack", response_model=OrderOut)
async def acknowledge(
    order_id: OrderId, who: OwnOrder, conn: ConnDep, request: Request
) -> OrderOut:
    """The enterprise confirms it received the order."""
    order = await service.acknowledge(conn, order_id=order_id, actor=Actor(who, client_ip(request)))
    return await _order_out(conn, order)


@router.post(
    "/api/v1/rectifications/{order_id}/evidence", response_model=EvidenceOut, status_code=201
)
async def upload_rectification_evidence(
    order_id: OrderId,
    file: UploadFile,
    who: OwnOrder,
    conn: ConnDep,
    request: Request,
    note: Annotated[str, Form(max_length=500)] = "",
) -> EvidenceOut:
    """The enterprise uploads a photo or document of its rectification (JPEG, PNG, WebP, PDF)."""
    row = await service.submit_evidence(
        conn,
        order_id=order_id,
        filename=file.filename or "",
        data=await file.read(DEFAULT_LIMITS.max_bytes + 1),
        note=note,
        actor=Actor(who, client_ip(request)),
    )
    return evidence_out(row)


@router.post(
    "/api/v1/rectifications/{order_id}/extensions", response_model=Created, status_code=201
)
async def request_extension(
    order_id: OrderId,
    body: ExtensionIn,
    who: OwnOrder,
    conn: ConnDep,
    settings: SettingsDep,
    request: Request,
) -> Created:
    """The enterprise asks for a later deadline with a reason; a supervisor decides."""
    ext_id = await service.request_extension(
        conn,
        order_id=order_id,
        requested_deadline=body.requested_deadline,
        reason=body.reason,
        actor=Actor(who, client_ip(request)),
        tz=settings.tz,
    )
    return Created(id=ext_id)


@router.post("/api/v1/rectification-extensions/{extension_id}/decide", response_model=OrderOut)
async def decide_extension(
    extension_id: ExtensionId,
    body: ExtensionDecision,
    who: Overseer,
    conn: ConnDep,
    settings: SettingsDep,
    request: Request,
) -> OrderOut:
    """A supervisor approves (with the requested deadline or a shorter one) or rejects an
    extension request, with a reason."""
    order = await service.decide_extension(
        conn,
        extension_id=extension_id,
        approve=body.approve,
        reason=body.reason,
        granted=body.deadline,
        actor=Actor(who, client_ip(request)),
        tz=settings.tz,
    )
    return await _order_out(conn, order)


@router.post("/api/v1/findings/{finding_id}/reinspection", response_model=FindingOut)
async def reinspect(
    finding_id: FindingId,
    body: ReinspectionIn,
    who: Inspector,
    conn: ConnDep,
    settings: SettingsDep,
    request: Request,
) -> FindingOut:
    """复查 of a finding by the team (on site or by video); passed closes it, and the order
    once all its findings passed."""
    await service.reinspect(
        conn,
        finding_id=finding_id,
        inspection_id=body.inspection_id,
        result=body.result,
        method=body.method,
        note=body.note,
        video_session_id=body.video_session_id,
        actor=Actor(who, client_ip(request)),
        tz=settings.tz,
    )
    return finding_out(await findings.get(conn, finding_id=finding_id))


@router.post("/api/v1/findings/{finding_id}/measures", response_model=MeasureOut, status_code=201)
async def record_measure(
    finding_id: FindingId,
    body: MeasureIn,
    who: Inspector,
    conn: ConnDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    request: Request,
) -> MeasureOut:
    """A flexible instrument or a coercive measure on a finding (preconditions enforced)."""
    measure_id = await measure_service.record_measure(
        conn,
        finding_id=finding_id,
        kind=body.kind,
        content=body.content,
        safety_not_ensured=body.safety_not_ensured,
        imminent_danger=body.imminent_danger,
        head_approval=body.head_approval,
        meeting_at=body.meeting_at,
        meeting_place=body.meeting_place,
        meeting_attendee=body.meeting_attendee,
        documents=policies.documents,
        actor=Actor(who, client_ip(request)),
        tz=settings.tz,
    )
    return _measure(await orders.get_measure(conn, measure_id=measure_id))


@router.get("/api/v1/findings/{finding_id}/measures", response_model=list[MeasureOut])
async def list_measures(
    finding_id: FindingId, principal: PrincipalDep, conn: ConnDep
) -> list[MeasureOut]:
    """The measures taken on a finding (an enterprise account: its own only)."""
    row = await findings.get(conn, finding_id=finding_id)
    ensure_enterprise_access(principal, row.enterprise_id)
    return [_measure(m) for m in await orders.measures(conn, finding_id=finding_id)]


@router.post("/api/v1/measures/{measure_id}/refusal", response_model=MeasureOut)
async def record_refusal(
    measure_id: MeasureId,
    body: RefusalIn,
    who: Inspector,
    conn: ConnDep,
    settings: SettingsDep,
    request: Request,
) -> MeasureOut:
    """Record that the enterprise refused a suspension or stop decision (安全生产法 第七十条)."""
    await measure_service.record_refusal(
        conn,
        measure_id=measure_id,
        note=body.note,
        actor=Actor(who, client_ip(request)),
        tz=settings.tz,
    )
    return _measure(await orders.get_measure(conn, measure_id=measure_id))
