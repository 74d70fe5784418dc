"""Live video sessions: the PostgreSQL store the session manager writes through, and the use
cases of the video routes (ask a site for video, hang up, read a recording, list).

The session manager (monitor.video, owned by the API process) moves a session's state on its
own; every write of it goes through `PgVideoStore`, which writes the row and its 'video' live
change in one transaction. When a person caused the write (asking for video, hanging up), the
manager passes the `Actor` it was given through to the store, which then writes the audit entry
in that same transaction (services.changes.record); the manager's own moves (connecting, live,
failed, ended by a timeout or by the site) are announced without one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from domain.errors import Forbidden, NotFound
from domain.i18n import msg
from domain.video import (
    NewSession,
    Purpose,
    RecordingInfo,
    SessionLinks,
    SessionState,
    VideoSession,
    VideoSessionId,
    may_hang_up,
)
from services.changes import Actor, Audit, Change, announce, record, record_access
from storage import video, video_replicas

#: The audit action of a person's write, by the state it moves the session to.
ACTIONS = {SessionState.REQUESTED: "video.request", SessionState.ENDED: "video.hangup"}


class Sessions(Protocol):
    """What the use cases need of the session manager (monitor.video.manager)."""

    async def request(
        self,
        *,
        enterprise: str,
        requested_by: str,
        purpose: Purpose,
        note: str = "",
        links: SessionLinks | None = None,
        may_use_reserve: bool = True,
        actor: object | None = None,
    ) -> VideoSession:
        """Store a session and ask the site for video."""
        ...

    async def hangup(
        self, session_id: str, *, reason: str, actor: object | None = None
    ) -> VideoSession:
        """End a session (idempotent)."""
        ...

    def recording_file(self, relative: str) -> Path:
        """Absolute path of a stored recording."""
        ...


def change(session: VideoSession) -> Change:
    """The live change of a session's new state."""
    payload = {
        "session_id": session.id,
        "state": session.state.value,
        "purpose": session.purpose.value,
        "reason": session.failure_reason or session.end_reason,
        "recording": session.recording_path is not None,
    }
    return ("video", session.enterprise_id, payload)


def audit_view(session: VideoSession) -> dict[str, Any]:
    """What the audit log keeps of a session."""
    return {
        "enterprise": session.enterprise_id,
        "purpose": session.purpose.value,
        "state": session.state.value,
    }


async def _written(
    conn: AsyncConnection[Any], session: VideoSession, actor: object | None
) -> VideoSession:
    """Announce a session's write; audited too when a person caused it."""
    if isinstance(actor, Actor):
        await record(
            conn,
            actor=actor,
            audit_entry=Audit(
                ACTIONS[session.state], f"video_session:{session.id}", after=audit_view(session)
            ),
            changes=[change(session)],
        )
    else:
        await announce(conn, changes=[change(session)])
    return session


class PgVideoStore:
    """The `VideoStore` the session manager uses in the API process: one short transaction per
    call, the row and its live change (and audit entry, for a person's action) together."""

    def __init__(self, pool: AsyncConnectionPool, *, owner_url: str | None = None) -> None:
        """Use connections from `pool`; record `owner_url` as the owner of created sessions."""
        self._pool = pool
        self._owner_url = owner_url

    async def create(self, new: NewSession, *, actor: object | None = None) -> VideoSession:
        """Store a requested session (and its owner); NotFound if the enterprise is unknown."""
        async with self._pool.connection() as conn, conn.transaction():
            session = await video.create(conn, new=new)
            if self._owner_url is not None:
                await video_replicas.set_owner(conn, session_id=session.id, url=self._owner_url)
            return await _written(conn, session, actor)

    async def set_state(
        self,
        session_id: VideoSessionId,
        state: SessionState,
        *,
        at: datetime,
        reason: str | None = None,
        actor: object | None = None,
    ) -> VideoSession:
        """Move an open session to `state`; RuleViolation if it is already over."""
        async with self._pool.connection() as conn, conn.transaction():
            session = await video.set_state(
                conn, session_id=session_id, state=state, at=at, reason=reason
            )
            return await _written(conn, session, actor)

    async def set_recording(self, session_id: VideoSessionId, info: RecordingInfo) -> None:
        """Attach the finished recording (announced with the session's end)."""
        async with self._pool.connection() as conn:
            await video.set_recording(conn, session_id=session_id, info=info)

    async def get(self, session_id: VideoSessionId) -> VideoSession | None:
        """One session, or None."""
        async with self._pool.connection() as conn:
            return await video.get(conn, session_id=session_id)

    async def touch(self, session_ids: Sequence[VideoSessionId], *, at: datetime) -> None:
        """Heartbeat: these sessions are still run by a live process."""
        async with self._pool.connection() as conn:
            await video.touch(conn, session_ids=session_ids)

    async def fail_stale(self, reason: str, *, at: datetime, stale_after_s: float) -> int:
        """Fail open sessions whose process stopped sending heartbeats."""
        async with self._pool.connection() as conn, conn.transaction():
            failed = await video.fail_stale(conn, reason=reason, at=at, stale_after_s=stale_after_s)
            await announce(
                conn,
                changes=[
                    (
                        "video",
                        f.enterprise_id,
                        {"session_id": f.id, "state": "failed", "reason": reason},
                    )
                    for f in failed
                ],
            )
        return len(failed)


async def request(
    *,
    sessions: Sessions,
    actor: Actor,
    enterprise: str,
    purpose: Purpose,
    note: str,
    links: SessionLinks,
    may_use_reserve: bool,
) -> VideoSession:
    """Ask a site for video; the session is stored with its audit entry and live change in one
    transaction (by the manager's store), then moves requested → connecting → live by itself."""
    assert actor.principal is not None, "video is asked for by a person"
    return await sessions.request(
        enterprise=enterprise,
        requested_by=actor.principal.username,
        purpose=purpose,
        note=note,
        links=links,
        may_use_reserve=may_use_reserve,
        actor=actor,
    )


async def hangup(
    conn: AsyncConnection[Any], *, sessions: Sessions, actor: Actor, session_id: str, reason: str
) -> VideoSession:
    """End a session for everyone (the manager tells the site and keeps the recording); the end
    is audited with its live change. An inspector may end only the sessions it asked for."""
    assert actor.principal is not None, "a session is hung up by a person"
    current = await get(conn, session_id=session_id)
    if not may_hang_up(
        staff_role=actor.principal.role.value,
        username=actor.principal.username,
        requested_by=current.requested_by,
    ):
        raise Forbidden(msg("video.end_own_only"))
    why = reason.strip() or f"hung up by {actor.principal.username}"
    return await sessions.hangup(session_id, reason=why, actor=actor)


async def get(conn: AsyncConnection[Any], *, session_id: str) -> VideoSession:
    """One session; NotFound if there is none."""
    session = await video.get(conn, session_id=session_id)
    if session is None:
        raise NotFound(msg("video.session_not_found", session_id=session_id))
    return session


async def waiting(conn: AsyncConnection[Any], *, enterprise: str) -> list[str]:
    """Ids of the enterprise's sessions still waiting for the site's answer (any replica)."""
    rows = await video.list_sessions(conn, enterprise_id=enterprise, state=SessionState.REQUESTED)
    return [str(r.id) for r in rows]


async def recording(
    conn: AsyncConnection[Any], *, sessions: Sessions, actor: Actor, session_id: str
) -> tuple[VideoSession, Path]:
    """The session and its recording file, for evidence; the read is audited (it changes no
    state, so it announces nothing)."""
    session = await get(conn, session_id=session_id)
    if not session.recording_path:
        raise NotFound(msg("video.no_recording_yet"))
    path = sessions.recording_file(session.recording_path)
    if not path.is_file():
        raise NotFound(msg("video.recording_file_missing"))
    await record_access(
        conn, actor=actor, audit_entry=Audit("video.recording.read", f"video_session:{session_id}")
    )
    return session, path
