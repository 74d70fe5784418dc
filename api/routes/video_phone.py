"""Phone video (measure 15): the enterprise answers duty staff's video request from its phone's
browser (rear camera, talkback audio) instead of a site agent — the same session, relay,
recording and 复产复验 evidence (monitor.video.manager.answer_phone)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from api.deps import require_roles
from api.errors import ERROR_RESPONSES
from api.routes.monitoring_common import VisibleEnt
from api.routes.video import ManagerDep, SessionIdPath
from domain.errors import NotFound
from domain.i18n import msg
from domain.users import Principal, Role
from domain.video import SessionState

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
async def waiting(ent: VisibleEnt, _: Reporter, manager: ManagerDep) -> WaitingRequests:
    """Duty staff's video requests this enterprise has not answered yet (this API process)."""
    return WaitingRequests(
        sessions=[
            s.id
            for s in manager.open_sessions()
            if s.enterprise == ent and s.state is SessionState.REQUESTED and not s.closing
        ],
        ice_servers=[i.as_browser() for i in manager.ice_servers],
    )


async def own_waiting_session(
    session_id: SessionIdPath, principal: Reporter, manager: ManagerDep
) -> str:
    """A session of the caller's own enterprise this process runs (404 otherwise, before the
    body is even read: a guessed id of another enterprise learns nothing)."""
    live = manager.live(session_id)
    if live is None or live.enterprise != principal.enterprise_id:
        raise NotFound(msg("video.session_not_found", session_id=session_id))
    return session_id


@router.post("/video/sessions/{session_id}/phone-offer", response_model=PhoneAnswer)
async def answer_from_phone(
    session_id: Annotated[str, Depends(own_waiting_session)],
    body: PhoneOffer,
    principal: Reporter,
    manager: ManagerDep,
) -> PhoneAnswer:
    """The phone's offer in, the answer out (the enterprise's own account; 404 when the
    session is not its own or not open here)."""
    sdp = await manager.answer_phone(
        session_id=session_id, enterprise=str(principal.enterprise_id), offer_sdp=body.sdp
    )
    return PhoneAnswer(sdp=sdp)
