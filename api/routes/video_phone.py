"""Phone video (measure 15): the enterprise answers duty staff's video request from its phone's
browser (rear camera, talkback audio) instead of a site agent — the same session, relay,
recording and 复产复验 evidence (monitor.video.manager.answer_phone)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ConnDep, require_roles
from api.errors import ERROR_RESPONSES
from api.routes.monitoring_common import VisibleEnt
from api.routes.video import ManagerDep, SessionIdPath
from api.video_replicas import forward_if_elsewhere
from domain.errors import NotFound
from domain.i18n import msg
from domain.users import Principal, Role
from domain.video import SessionState
from services import video as video_service

router = APIRouter(prefix="/api/v1", tags=["video"], responses=ERROR_RESPONSES)

Reporter = Annotated[Principal, Depends(require_roles(Role.ENTERPRISE))]


class PhoneOffer(BaseModel):
    """The phone browser's SDP offer (video sent, talkback audio received)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["offer"]
    sdp: str = Field(max_length=64 * 1024)


class PhoneAnswer(BaseModel):
    """The server's SDP answer."""

    type: Literal["answer"] = "answer"
    sdp: str


class WaitingRequests(BaseModel):
    """Video requests waiting for the enterprise, and the ICE servers to use (from settings)."""

    sessions: list[str] = Field(description="ids of the sessions waiting for an answer")
    ice_servers: list[dict[str, Any]]


@router.get("/enterprises/{ent}/video/requests", response_model=WaitingRequests)
async def waiting(
    ent: VisibleEnt, _: Reporter, manager: ManagerDep, conn: ConnDep
) -> WaitingRequests:
    """Duty staff's video requests this enterprise has not answered yet (on any API replica)."""
    here = {
        s.id
        for s in manager.open_sessions()
        if s.enterprise == ent and s.state is SessionState.REQUESTED and not s.closing
    }
    # Requests another API replica owns are answered through it (forwarded by the offer route).
    elsewhere = await video_service.waiting(conn, enterprise=ent)
    return WaitingRequests(
        sessions=sorted(here | {s for s in elsewhere if manager.live(s) is None}),
        ice_servers=[i.as_browser() for i in manager.ice_servers],
    )


async def own_waiting_session(
    session_id: SessionIdPath, principal: Reporter, manager: ManagerDep, conn: ConnDep
) -> str:
    """A session of the caller's own enterprise, run here or by another replica (404 otherwise,
    before the body is even read: a guessed id of another enterprise learns nothing)."""
    live = manager.live(session_id)
    try:
        owner = (
            live.enterprise
            if live
            else (await video_service.get(conn, session_id=session_id)).enterprise_id
        )
    except NotFound:
        owner = None
    if owner is None or owner != principal.enterprise_id:
        raise NotFound(msg("video.session_not_found", session_id=session_id))
    return session_id


@router.post("/video/sessions/{session_id}/phone-offer", response_model=PhoneAnswer)
async def answer_from_phone(
    session_id: Annotated[str, Depends(own_waiting_session)],
    body: PhoneOffer,
    principal: Reporter,
    manager: ManagerDep,
    conn: ConnDep,
    request: Request,
) -> PhoneAnswer | Response:
    """The phone's offer in, the answer out (the enterprise's own account; 404 when the
    session is not its own). The replica that owns the session answers (forwarded there)."""
    if (elsewhere := await forward_if_elsewhere(request, conn, manager, session_id)) is not None:
        return elsewhere
    sdp = await manager.answer_phone(
        session_id=session_id, enterprise=str(principal.enterprise_id), offer_sdp=body.sdp
    )
    return PhoneAnswer(sdp=sdp)
