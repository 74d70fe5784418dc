"""The enterprise portal's reports over HTTPS (企业端): operation events, the daily commitment
and acknowledgements go into the same pipeline as the site's MQTT uplinks (docs/protocol.md)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Form, Request, Response, UploadFile, status
from pydantic import BaseModel, Field

from api.common import IdPath, client_ip
from api.deps import ConnDep, LangDep, PoolDep, require_roles
from api.errors import ERROR_RESPONSES
from api.routes.monitoring_common import PolicyDep, VisibleEnt, require_enterprise
from api.routes.workbench import EvidenceOut, evidence_out
from domain.errors import NotFound, ValidationFailed
from domain.evidence import DEFAULT_LIMITS
from domain.i18n import msg, render
from domain.portal import explain
from domain.users import Principal, Role
from services import evidence as evidence_service
from services import portal
from services.changes import Actor
from storage import portal_reports
from storage.portal_reports import Report

router = APIRouter(prefix="/api/v1", tags=["portal"], responses=ERROR_RESPONSES)

#: Only the enterprise's own accounts report for it (staff never report in its name).
Reporter = Annotated[Principal, Depends(require_roles(Role.ENTERPRISE))]
#: How long a report waits for the ingest before the answer says "pending" (202).
WAIT_S = 5.0

_QUEUED = 202
_TS = "2026-03-01T08:00:00+08:00"
_EXAMPLES: dict[str, dict[str, Any]] = {
    "event": {
        "event_id": "web-3f9c2a71-0001",
        "ts": _TS,
        "type": "shutdown",
        "scope": "plant",
        "reason": "年度大修",
    },
    "commitment": {
        "date": "2026-03-01",
        "units": {"total": 3, "running": 2, "stopped": 1},
        "special_ops": [{"op_type": "hot_work", "grade": "2", "count": 1}],
        "risk_level": 3,
        "committed_by": "张三",
        "committed_at": _TS,
    },
    "ack": {"ref": "G12", "ts": _TS, "by": "张三"},
}


class ReportOut(BaseModel):
    """A report and what the ingest made of it."""

    id: int
    kind: str = Field(description="event | commitment | ack")
    state: str = Field(description="pending | stored | refused")
    code: str | None = Field(default=None, description="the MQTT reject code when refused")
    message: str | None = Field(default=None, description="what to fix (Accept-Language)")
    submitted_by: str
    submitted_at: datetime
    done_at: datetime | None = None


def _out(r: Report, lang: str) -> ReportOut:
    text = None
    if r.state == "refused":
        text = render(explain(r.code or "", r.reason), lang)
    elif r.state == "pending":
        text = render(msg("portal.pending"), lang)
    return ReportOut(
        id=r.id,
        kind=r.kind,
        state=r.state,
        code=r.code,
        message=text,
        submitted_by=r.submitted_by,
        submitted_at=r.submitted_at,
        done_at=r.done_at,
    )


async def _report(
    kind: str,
    ent: str,
    principal: Principal,
    request: Request,
    response: Response,
    conn: ConnDep,
    pool: PoolDep,
    policy: PolicyDep,
    lang: str,
) -> ReportOut:
    await require_enterprise(conn, ent)
    report_id = await portal.submit(
        conn,
        ent=ent,
        kind=kind,
        payload=await request.body(),
        max_bytes=policy.max_payload_bytes,
        actor=Actor(principal, client_ip(request)),
    )
    # The ingest takes the report only once it is committed.
    await conn.commit()
    # RFC 7240 `Prefer: respond-async`: answer 202 at once, the outcome is read later.
    wait = 0.0 if "respond-async" in request.headers.get("prefer", "") else WAIT_S
    r = await portal.await_outcome(pool, ent=ent, report_id=report_id, within=wait)
    if r.state == "refused":
        raise ValidationFailed(
            explain(r.code or "", r.reason),
            details={"report_id": r.id, "code": r.code, "reason": r.reason},
        )
    if r.state == "pending":
        response.status_code = status.HTTP_202_ACCEPTED
    return _out(r, lang)


#: The uplink's JSON object, passed on byte for byte (its fields are the ingest's to check).
ReportBody = Annotated[dict[str, Any], Body()]


def _reporting(kind: str) -> Any:
    """The route of one uplink kind (the same parameters for each)."""

    async def route(
        ent: VisibleEnt,
        body: ReportBody,
        principal: Reporter,
        request: Request,
        response: Response,
        conn: ConnDep,
        pool: PoolDep,
        policy: PolicyDep,
        lang: LangDep,
    ) -> ReportOut:
        return await _report(kind, ent, principal, request, response, conn, pool, policy, lang)

    return route


for _kind, _path, _doc in (
    (
        "event",
        "reports",
        "An operation event exactly as on MQTT `…/event`; stored once per event id (a retry, "
        "or the same event from a device, is answered as stored); refused with what to fix.",
    ),
    (
        "commitment",
        "commitments",
        "The daily risk commitment exactly as on MQTT `…/commitment` (cross-checked the same).",
    ),
    (
        "ack",
        "acks",
        "Acknowledge a guidance or notice exactly as on MQTT `…/ack` (the same delivery state).",
    ),
):
    router.post(
        f"/enterprises/{{ent}}/{_path}",
        response_model=ReportOut,
        name=f"report_{_kind}",
        description=f"{_doc}\n\nExample: `{json.dumps(_EXAMPLES[_kind], ensure_ascii=False)}`",
        responses={_QUEUED: {"description": "queued; the ingest has not taken it yet"}},
    )(_reporting(_kind))


@router.get("/enterprises/{ent}/reports", response_model=list[ReportOut])
async def list_reports(ent: VisibleEnt, conn: ConnDep, lang: LangDep) -> list[ReportOut]:
    """The enterprise's latest 50 portal reports with their outcome, newest first."""
    return [_out(r, lang) for r in await portal_reports.list_reports(conn, ent=ent)]


@router.get("/enterprises/{ent}/reports/{report_id}", response_model=ReportOut)
async def get_report(ent: VisibleEnt, report_id: IdPath, conn: ConnDep, lang: LangDep) -> ReportOut:
    """One portal report of the enterprise and its outcome."""
    r = await portal_reports.get(conn, ent=ent, report_id=report_id)
    if r is None:
        raise NotFound(msg("portal.report_not_found", report_id=report_id, ent=ent))
    return _out(r, lang)


@router.post(
    "/enterprises/{ent}/permit-photos",
    response_model=EvidenceOut,
    status_code=status.HTTP_201_CREATED,
)
async def upload_permit_photo(
    ent: VisibleEnt,
    file: UploadFile,
    permit_no: Annotated[str, Form(min_length=1, max_length=64)],
    principal: Reporter,
    conn: ConnDep,
    request: Request,
) -> EvidenceOut:
    """A photo of the signed 安全作业票 (JPEG, PNG, WebP or PDF; size-limited, SHA-256 kept) in
    the generic evidence store under ('work_permit', permit number); the special operation's
    start names it (`permit_photo`: evidence id and SHA-256)."""
    await require_enterprise(conn, ent)
    row = await evidence_service.store(
        conn,
        enterprise_id=ent,
        subject_kind="work_permit",
        subject_id=permit_no,
        filename=file.filename or "permit.jpg",
        data=await file.read(DEFAULT_LIMITS.max_bytes + 1),
        actor=Actor(principal, client_ip(request)),
    )
    return evidence_out(row)
