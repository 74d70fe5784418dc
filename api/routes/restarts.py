"""Restart verification (复产复验): list restart requests, approve or reject them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api.common import IdPath, Page, PagingDep, client_ip
from api.deps import ConnDep, PrincipalDep
from api.errors import ERROR_RESPONSES
from api.routes.monitoring_common import (
    DownlinkOut,
    Handler,
    PolicyDep,
    downlink_out,
    visible_filter,
)
from domain.users import Principal
from services import restarts
from services.changes import Actor
from storage import restart_requests

router = APIRouter(prefix="/api/v1/restart-requests", tags=["restart"], responses=ERROR_RESPONSES)


class RestartRequestOut(BaseModel):
    """A restart request with the site's self-check and the decision."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "enterprise_id": "913301020000000019",
                    "event_id": "RR-20260301-1",
                    "requested_at": "2026-03-01T08:00:00+08:00",
                    "planned_at": "2026-03-03T08:00:00+08:00",
                    "self_check": [{"item": "安全设施完好", "ok": True, "note": None}],
                    "failed_items": 0,
                    "state": "pending",
                    "decided_by": None,
                    "decided_at": None,
                    "decision_reason": None,
                    "notice_id": None,
                }
            ]
        }
    )

    id: int
    enterprise_id: str
    event_id: str
    requested_at: datetime
    planned_at: datetime
    self_check: list[dict[str, Any]]
    failed_items: int
    state: str = Field(description="pending | approved | rejected | superseded")
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    notice_id: int | None


def _out(r: restart_requests.RestartRequest) -> RestartRequestOut:
    return RestartRequestOut(
        id=r.id,
        enterprise_id=r.enterprise_id,
        event_id=r.event_id,
        requested_at=r.requested_at,
        planned_at=r.planned_at,
        self_check=list(r.self_check),
        failed_items=r.failed_items,
        state=r.state,
        decided_by=r.decided_by,
        decided_at=r.decided_at,
        decision_reason=r.decision_reason,
        notice_id=r.notice_id,
    )


@router.get("", response_model=Page[RestartRequestOut])
async def list_requests(
    principal: PrincipalDep,
    conn: ConnDep,
    paging: PagingDep,
    state: Literal["pending", "approved", "rejected", "superseded"] | None = None,
    ent: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[RestartRequestOut]:
    """Restart requests, pending first (an enterprise account sees its own)."""
    items, total = await restart_requests.list_requests(
        conn,
        state=state,
        ent=visible_filter(principal, ent),
        limit=paging.limit,
        offset=paging.offset,
    )
    return Page[RestartRequestOut](
        items=[_out(r) for r in items], total=total, limit=paging.limit, offset=paging.offset
    )


class DecisionIn(BaseModel):
    """The decision's reason (required to reject)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "复验合格"}]}
    )

    reason: str = Field(default="", max_length=1000)
    video_session_ids: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="ended video sessions with this site kept as evidence (复产复验)",
    )


class DecisionOut(BaseModel):
    """The decided request and the notice sent to the site on …/notice."""

    request: RestartRequestOut
    notice: DownlinkOut
    evidence: list[EvidenceOut] = Field(default_factory=list)


class EvidenceOut(BaseModel):
    """A video session the decision rests on, and its recording's identity."""

    video_session_id: str
    recording_sha256: str | None
    recording_bytes: int | None


async def _decide(
    request_id: int,
    body: DecisionIn,
    principal: Principal,
    conn: ConnDep,
    policy: PolicyDep,
    request: Request,
    *,
    approve: bool,
) -> DecisionOut:
    done = await restarts.decide(
        conn,
        request_id=request_id,
        approve=approve,
        reason=body.reason,
        video_session_ids=body.video_session_ids,
        actor=Actor(principal, client_ip(request)),
        policy=policy,
    )
    return DecisionOut(
        request=_out(done.request),
        notice=downlink_out(done.notice),
        evidence=[
            EvidenceOut(
                video_session_id=e.video_session_id,
                recording_sha256=e.recording_sha256,
                recording_bytes=e.recording_bytes,
            )
            for e in done.evidence
        ],
    )


@router.post("/{request_id}/approve", response_model=DecisionOut)
async def approve(
    request_id: IdPath,
    principal: Handler,
    conn: ConnDep,
    policy: PolicyDep,
    request: Request,
    body: DecisionIn | None = None,
) -> DecisionOut:
    """Approve: the enterprise may resume; the decision goes to the site on …/notice."""
    return await _decide(
        request_id, body or DecisionIn(), principal, conn, policy, request, approve=True
    )


@router.post("/{request_id}/reject", response_model=DecisionOut)
async def reject(
    request_id: IdPath,
    body: DecisionIn,
    principal: Handler,
    conn: ConnDep,
    policy: PolicyDep,
    request: Request,
) -> DecisionOut:
    """Reject with a reason: the enterprise stays shut down; the site is told on …/notice."""
    return await _decide(request_id, body, principal, conn, policy, request, approve=False)
