"""Live video: ask a site for video, watch it (SDP offer in, answer out), snapshot, recording."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from api.common import client_ip
from api.deps import ConnDep, require_roles
from api.errors import ERROR_RESPONSES
from api.video_replicas import forward_if_elsewhere
from domain.errors import RuleViolation
from domain.i18n import msg
from domain.users import Principal, Role
from domain.video import Purpose, SessionLinks, SessionState, VideoSession
from monitor.video.manager import VideoSessionManager
from monitor.video.service import video_service
from services import video as video_cases
from services.changes import Actor
from storage import video as video_store

router = APIRouter(prefix="/api/v1/video", tags=["video"], responses=ERROR_RESPONSES)

#: Who may ask for, watch and end live video.
VIDEO_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.DUTY, Role.INSPECTOR)
#: Duty staff and their superiors: they may use the slots kept in reserve and end any session.
DUTY_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.DUTY})
#: Who may download recordings (evidence).
RECORDING_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.DUTY)

Watcher = Annotated[Principal, Depends(require_roles(*VIDEO_ROLES))]
EvidenceReader = Annotated[Principal, Depends(require_roles(*RECORDING_ROLES))]
SessionIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", description="session id")]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the session manager (with its own MQTT client) for the API's lifetime."""
    store = video_cases.PgVideoStore(app.state.pool, owner_url=app.state.settings.own_replica_url)
    async with video_service(app.state.settings, store) as mgr:
        app.state.video = mgr
        yield
    app.state.video = None


def get_manager(request: Request) -> VideoSessionManager:
    """The process's session manager."""
    manager: VideoSessionManager | None = getattr(request.app.state, "video", None)
    if manager is None:
        raise RuleViolation(msg("video.service_not_here"))
    return manager


ManagerDep = Annotated[VideoSessionManager, Depends(get_manager)]


class SessionIn(BaseModel):
    """Ask a site for video."""

    model_config = ConfigDict(extra="forbid")

    enterprise: str = Field(description="the site's 18-character credit code")
    purpose: Purpose
    note: str = Field(default="", max_length=2000)
    alarm_id: str | None = Field(default=None, max_length=64)
    restart_request_id: str | None = Field(default=None, max_length=64)
    inspection_id: str | None = Field(default=None, max_length=64)


class RecordingOut(BaseModel):
    """The evidence file of an ended session."""

    url: str
    bytes: int | None
    duration_s: float | None
    sha256: str | None


class LiveOut(BaseModel):
    """What an open session is doing right now."""

    viewers: int
    frames: int
    recording: bool
    talkback_sources: int


class SessionOut(BaseModel):
    """A video session."""

    id: str
    enterprise_id: str
    requested_by: str
    purpose: Purpose
    note: str
    alarm_id: str | None
    restart_request_id: str | None
    inspection_id: str | None
    state: SessionState
    failure_reason: str | None
    end_reason: str | None
    requested_at: datetime
    connecting_at: datetime | None
    live_at: datetime | None
    ended_at: datetime | None
    recording: RecordingOut | None
    live: LiveOut | None


class SdpIn(BaseModel):
    """A browser's SDP offer."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["offer"]
    sdp: str = Field(max_length=64 * 1024)


class SdpOut(BaseModel):
    """The server's SDP answer and the viewer id to leave with."""

    type: Literal["answer"] = "answer"
    sdp: str
    viewer_id: str


class HangupIn(BaseModel):
    """Why the session ends."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=500)


def out(session: VideoSession, manager: VideoSessionManager) -> SessionOut:
    """The HTTP shape of a session (recording path never leaves the server)."""
    live = manager.live(session.id)
    return SessionOut(
        id=session.id,
        enterprise_id=session.enterprise_id,
        requested_by=session.requested_by,
        purpose=session.purpose,
        note=session.note,
        alarm_id=session.links.alarm_id,
        restart_request_id=session.links.restart_request_id,
        inspection_id=session.links.inspection_id,
        state=session.state,
        failure_reason=session.failure_reason,
        end_reason=session.end_reason,
        requested_at=session.requested_at,
        connecting_at=session.connecting_at,
        live_at=session.live_at,
        ended_at=session.ended_at,
        recording=RecordingOut(
            url=f"/api/v1/video/sessions/{session.id}/recording",
            bytes=session.recording_bytes,
            duration_s=session.recording_duration_s,
            sha256=session.recording_sha256,
        )
        if session.recording_path
        else None,
        live=LiveOut(
            viewers=len(live.viewers),
            frames=live.frames,
            recording=live.recorder is not None and live.recorder.frames > 0,
            talkback_sources=live.talkback.sources if live.talkback else 0,
        )
        if live is not None and not live.closing
        else None,
    )


@router.post("/sessions", status_code=201, response_model=SessionOut)
async def request_session(
    body: SessionIn, principal: Watcher, manager: ManagerDep, conn: ConnDep, request: Request
) -> SessionOut:
    """Ask a site for video; the session then moves requested → connecting → live by itself."""
    session = await video_cases.request(
        sessions=manager,
        actor=Actor(principal, client_ip(request)),
        enterprise=body.enterprise,
        purpose=body.purpose,
        note=body.note,
        links=SessionLinks(body.alarm_id, body.restart_request_id, body.inspection_id),
        may_use_reserve=principal.role in DUTY_ROLES,
    )
    return out(session, manager)


@router.get("/sessions", response_model=list[SessionOut])
async def list_sessions(
    _: Watcher,
    manager: ManagerDep,
    conn: ConnDep,
    enterprise: Annotated[str | None, Query(max_length=18)] = None,
    state: SessionState | None = None,
    restart_request_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[SessionOut]:
    """Sessions newest first (e.g. one enterprise's recordings, or a restart request's)."""
    rows = await video_store.list_sessions(
        conn,
        enterprise_id=enterprise,
        state=state,
        restart_request_id=restart_request_id,
        limit=limit,
    )
    return [out(row, manager) for row in rows]


@router.get("/ice-servers")
async def ice_servers(_: Watcher, manager: ManagerDep) -> dict[str, Any]:
    """The RTCPeerConnection configuration a browser viewer should use."""
    return {"iceServers": [s.as_browser() for s in manager.ice_servers]}


@router.get("/sessions/{session_id}", response_model=SessionOut)
async def get_session(
    session_id: SessionIdPath, _: Watcher, manager: ManagerDep, conn: ConnDep
) -> SessionOut:
    """One session with its live figures while it is open."""
    return out(await video_cases.get(conn, session_id=session_id), manager)


@router.post("/sessions/{session_id}/viewer", response_model=SdpOut)
async def add_viewer(
    session_id: SessionIdPath,
    body: SdpIn,
    _: Watcher,
    manager: ManagerDep,
    conn: ConnDep,
    request: Request,
) -> SdpOut | Response:
    """A browser's SDP offer in, the answer out; its microphone track becomes talkback (the
    replica that owns the session answers)."""
    if (elsewhere := await forward_if_elsewhere(request, conn, manager, session_id)) is not None:
        return elsewhere
    answer = await manager.add_viewer(session_id, body.sdp)
    return SdpOut(sdp=answer.sdp, viewer_id=answer.viewer_id)


@router.delete("/sessions/{session_id}/viewers/{viewer_id}", status_code=204)
async def leave(
    session_id: SessionIdPath,
    viewer_id: Annotated[str, Path(max_length=32)],
    _: Watcher,
    manager: ManagerDep,
    conn: ConnDep,
    request: Request,
) -> Response:
    """A viewer leaves; the session stays up for the others."""
    if (elsewhere := await forward_if_elsewhere(request, conn, manager, session_id)) is not None:
        return elsewhere
    await manager.drop_viewer(session_id, viewer_id)
    return Response(status_code=204)


@router.get(
    "/sessions/{session_id}/snapshot.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
async def snapshot(
    session_id: SessionIdPath, _: Watcher, manager: ManagerDep, conn: ConnDep, request: Request
) -> Response:
    """A JPEG of the newest frame of an open session."""
    if (elsewhere := await forward_if_elsewhere(request, conn, manager, session_id)) is not None:
        return elsewhere
    data = await manager.snapshot(session_id)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/sessions/{session_id}/hangup", response_model=SessionOut)
async def hangup(
    session_id: SessionIdPath,
    body: HangupIn,
    principal: Watcher,
    manager: ManagerDep,
    conn: ConnDep,
    request: Request,
) -> SessionOut | Response:
    """End the session for everyone; the site is told and the recording is kept."""
    if (elsewhere := await forward_if_elsewhere(request, conn, manager, session_id)) is not None:
        return elsewhere
    session = await video_cases.hangup(
        conn,
        sessions=manager,
        actor=Actor(principal, client_ip(request)),
        session_id=session_id,
        reason=body.reason,
    )
    return out(session, manager)


@router.get(
    "/sessions/{session_id}/recording",
    response_class=FileResponse,
    responses={200: {"content": {"video/webm": {}}}},
)
async def recording(
    session_id: SessionIdPath,
    principal: EvidenceReader,
    manager: ManagerDep,
    conn: ConnDep,
    request: Request,
) -> FileResponse:
    """The session's recording (WebM/VP8), for authorised roles; the path is the server's own."""
    session, path = await video_cases.recording(
        conn, sessions=manager, actor=Actor(principal, client_ip(request)), session_id=session_id
    )
    return FileResponse(
        path, media_type="video/webm", filename=f"{session.enterprise_id}-{session.id}.webm"
    )
