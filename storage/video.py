"""Video sessions (table `video_sessions`): create, move state, attach recordings, heartbeats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row, dict_row

from domain.errors import NotFound, RuleViolation
from domain.i18n import msg
from domain.video import (
    NewSession,
    Purpose,
    RecordingInfo,
    SessionLinks,
    SessionState,
    VideoSession,
    VideoSessionId,
)
from storage.errors import amapped_errors

ENTERPRISE_EXISTS = "SELECT 1 FROM enterprises WHERE credit_code = %(enterprise_id)s"
INSERT = """
INSERT INTO video_sessions (id, enterprise_id, requested_by, purpose, note, alarm_id,
                            restart_request_id, inspection_id, requested_at)
VALUES (%(id)s, %(enterprise_id)s, %(requested_by)s, %(purpose)s, %(note)s, %(alarm_id)s,
        %(restart_request_id)s, %(inspection_id)s, %(requested_at)s)
RETURNING id, enterprise_id, requested_by, purpose, note, alarm_id, restart_request_id,
          inspection_id, state, failure_reason, end_reason, requested_at, connecting_at,
          live_at, ended_at, recording_path, recording_bytes, recording_duration_s,
          recording_sha256
"""
SET_STATE = """
UPDATE video_sessions
   SET state = %(state)s::text,
       connecting_at = CASE WHEN %(state)s::text = 'connecting' THEN %(at)s ELSE connecting_at END,
       live_at = CASE WHEN %(state)s::text = 'live' THEN %(at)s ELSE live_at END,
       ended_at = CASE WHEN %(state)s::text IN ('ended', 'failed') THEN %(at)s ELSE ended_at END,
       failure_reason = CASE WHEN %(state)s::text = 'failed' THEN %(reason)s
                             ELSE failure_reason END,
       end_reason = CASE WHEN %(state)s::text = 'ended' THEN %(reason)s ELSE end_reason END
 WHERE id = %(id)s AND state IN ('requested', 'connecting', 'live')
RETURNING id, enterprise_id, requested_by, purpose, note, alarm_id, restart_request_id,
          inspection_id, state, failure_reason, end_reason, requested_at, connecting_at,
          live_at, ended_at, recording_path, recording_bytes, recording_duration_s,
          recording_sha256
"""
SET_RECORDING = """
UPDATE video_sessions
   SET recording_path = %(path)s, recording_bytes = %(size)s,
       recording_duration_s = %(duration)s, recording_sha256 = %(sha256)s
 WHERE id = %(id)s
"""
GET = """
SELECT id, enterprise_id, requested_by, purpose, note, alarm_id, restart_request_id,
          inspection_id, state, failure_reason, end_reason, requested_at, connecting_at,
          live_at, ended_at, recording_path, recording_bytes, recording_duration_s,
          recording_sha256
  FROM video_sessions WHERE id = %(id)s
"""
LIST = """
SELECT id, enterprise_id, requested_by, purpose, note, alarm_id, restart_request_id,
          inspection_id, state, failure_reason, end_reason, requested_at, connecting_at,
          live_at, ended_at, recording_path, recording_bytes, recording_duration_s,
          recording_sha256
  FROM video_sessions
 WHERE (%(enterprise_id)s::text IS NULL OR enterprise_id = %(enterprise_id)s)
   AND (%(state)s::text IS NULL OR state = %(state)s)
   AND (%(restart_request_id)s::text IS NULL OR restart_request_id = %(restart_request_id)s)
 ORDER BY requested_at DESC
 LIMIT %(limit)s
"""
TOUCH = "UPDATE video_sessions SET updated_at = now() WHERE id = ANY(%(ids)s)"
FAIL_STALE = """
UPDATE video_sessions
   SET state = 'failed', failure_reason = %(reason)s, ended_at = %(at)s
 WHERE state IN ('requested', 'connecting', 'live')
   AND updated_at < now() - make_interval(secs => %(stale_s)s)
RETURNING id, enterprise_id
"""


def to_session(row: dict[str, Any]) -> VideoSession:
    """Build the domain record from a row."""
    return VideoSession(
        id=VideoSessionId(row["id"]),
        enterprise_id=row["enterprise_id"],
        requested_by=row["requested_by"],
        purpose=Purpose(row["purpose"]),
        note=row["note"],
        links=SessionLinks(row["alarm_id"], row["restart_request_id"], row["inspection_id"]),
        state=SessionState(row["state"]),
        failure_reason=row["failure_reason"],
        end_reason=row["end_reason"],
        requested_at=row["requested_at"],
        connecting_at=row["connecting_at"],
        live_at=row["live_at"],
        ended_at=row["ended_at"],
        recording_path=row["recording_path"],
        recording_bytes=row["recording_bytes"],
        recording_duration_s=row["recording_duration_s"],
        recording_sha256=row["recording_sha256"],
    )


async def get(conn: AsyncConnection[Any], *, session_id: str) -> VideoSession | None:
    """One session, or None."""
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(GET, {"id": session_id})
        row = await cur.fetchone()
    return to_session(row) if row else None


async def list_sessions(
    conn: AsyncConnection[Any],
    *,
    enterprise_id: str | None = None,
    state: SessionState | None = None,
    restart_request_id: str | None = None,
    limit: int = 50,
) -> list[VideoSession]:
    """Newest sessions first, optionally of one enterprise, state or restart request."""
    params = {
        "enterprise_id": enterprise_id,
        "state": state.value if state else None,
        "restart_request_id": restart_request_id,
        "limit": limit,
    }
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(LIST, params)
        return [to_session(r) for r in await cur.fetchall()]


async def create(conn: AsyncConnection[Any], *, new: NewSession) -> VideoSession:
    """Store a requested session; NotFound if the enterprise is not in the directory."""
    params = {
        "id": new.id,
        "enterprise_id": new.enterprise_id,
        "requested_by": new.requested_by,
        "purpose": new.purpose.value,
        "note": new.note,
        "alarm_id": new.links.alarm_id,
        "restart_request_id": new.links.restart_request_id,
        "inspection_id": new.links.inspection_id,
        "requested_at": new.requested_at,
    }
    async with amapped_errors():
        cur = await conn.execute(ENTERPRISE_EXISTS, params)
        if await cur.fetchone() is None:
            raise NotFound(msg("enterprise.not_in_directory", code=new.enterprise_id))
        async with conn.cursor(row_factory=dict_row) as dcur:
            await dcur.execute(INSERT, params)
            row = await dcur.fetchone()
    assert row is not None
    return to_session(row)


async def set_state(
    conn: AsyncConnection[Any],
    *,
    session_id: str,
    state: SessionState,
    at: datetime,
    reason: str | None = None,
) -> VideoSession:
    """Move an open session to `state`; NotFound, or RuleViolation if it is already over."""
    params = {"id": session_id, "state": state.value, "at": at, "reason": reason}
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SET_STATE, params)
        row = await cur.fetchone()
    if row is None:
        existing = await get(conn, session_id=session_id)
        if existing is None:
            raise NotFound(msg("video.session_not_found", session_id=session_id))
        raise RuleViolation(
            msg("video.session_already", session_id=session_id, state=existing.state)
        )
    return to_session(row)


async def set_recording(
    conn: AsyncConnection[Any], *, session_id: str, info: RecordingInfo
) -> None:
    """Attach the finished recording."""
    params = {
        "id": session_id,
        "path": info.path,
        "size": info.size_bytes,
        "duration": info.duration_s,
        "sha256": info.sha256,
    }
    async with amapped_errors():
        await conn.execute(SET_RECORDING, params)


async def touch(conn: AsyncConnection[Any], *, session_ids: Sequence[str]) -> None:
    """Heartbeat: these sessions are still run by a live process."""
    async with amapped_errors():
        await conn.execute(TOUCH, {"ids": list(session_ids)})


@dataclass(frozen=True, slots=True)
class Failed:
    """A session failed because its process stopped sending heartbeats."""

    id: str
    enterprise_id: str


async def fail_stale(
    conn: AsyncConnection[Any], *, reason: str, at: datetime, stale_after_s: float
) -> list[Failed]:
    """Fail open sessions whose process stopped sending heartbeats."""
    params = {"reason": reason, "at": at, "stale_s": stale_after_s}
    async with amapped_errors(), conn.cursor(row_factory=class_row(Failed)) as cur:
        await cur.execute(FAIL_STALE, params)
        return await cur.fetchall()
