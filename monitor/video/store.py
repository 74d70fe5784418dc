"""Where sessions are kept: the `VideoStore` port and an in-memory store for tests and tools."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.errors import NotFound
from domain.i18n import msg
from domain.video import (
    OPEN_STATES,
    NewSession,
    RecordingInfo,
    SessionState,
    VideoSession,
    VideoSessionId,
)


class VideoStore(Protocol):
    """Persistence the session manager needs (PostgreSQL: services/video.py). `actor` is who
    caused a write, opaque to the manager (the API's services.changes.Actor, None for the
    manager's own moves): the store records it with the row."""

    async def create(self, new: NewSession, *, actor: object | None = None) -> VideoSession:
        """Store a requested session; NotFound if the enterprise is not in the directory."""
        ...

    async def set_state(
        self,
        session_id: VideoSessionId,
        state: SessionState,
        *,
        at: datetime,
        reason: str | None = None,
        actor: object | None = None,
    ) -> VideoSession:
        """Move a session to `state` at `at`; `reason` is the failure or end reason."""
        ...

    async def set_recording(self, session_id: VideoSessionId, info: RecordingInfo) -> None:
        """Attach the finished recording to a session."""
        ...

    async def get(self, session_id: VideoSessionId) -> VideoSession | None:
        """One session, or None."""
        ...

    async def touch(self, session_ids: Sequence[VideoSessionId], *, at: datetime) -> None:
        """Mark open sessions as still run by a live process (heartbeat)."""
        ...

    async def fail_stale(self, reason: str, *, at: datetime, stale_after_s: float) -> int:
        """Fail open sessions not marked for `stale_after_s` (their process died); how many."""
        ...


class MemoryVideoStore:
    """A VideoStore in a dict; `enterprises` limits which sites exist (None: any)."""

    def __init__(self, enterprises: set[str] | None = None) -> None:
        """Start empty."""
        self.rows: dict[VideoSessionId, VideoSession] = {}
        self.beats: dict[VideoSessionId, float] = {}
        self._enterprises = enterprises

    async def create(self, new: NewSession, *, actor: object | None = None) -> VideoSession:
        """Store a requested session (who asked is not kept here)."""
        if self._enterprises is not None and new.enterprise_id not in self._enterprises:
            raise NotFound(msg("enterprise.not_in_directory", code=new.enterprise_id))
        row = VideoSession(
            id=new.id,
            enterprise_id=new.enterprise_id,
            requested_by=new.requested_by,
            purpose=new.purpose,
            note=new.note,
            links=new.links,
            state=SessionState.REQUESTED,
            failure_reason=None,
            end_reason=None,
            requested_at=new.requested_at,
            connecting_at=None,
            live_at=None,
            ended_at=None,
            recording_path=None,
            recording_bytes=None,
            recording_duration_s=None,
            recording_sha256=None,
        )
        self.rows[new.id] = row
        self.beats[new.id] = time.monotonic()
        return row

    async def set_state(
        self,
        session_id: VideoSessionId,
        state: SessionState,
        *,
        at: datetime,
        reason: str | None = None,
        actor: object | None = None,
    ) -> VideoSession:
        """Move a session to `state`."""
        row = self.rows.get(session_id)
        if row is None:
            raise NotFound(msg("video.session_not_found", session_id=session_id))
        changes: dict[str, object] = {"state": state}
        if state is SessionState.CONNECTING:
            changes["connecting_at"] = at
        elif state is SessionState.LIVE:
            changes["live_at"] = at
        elif state is SessionState.FAILED:
            changes.update(ended_at=at, failure_reason=reason)
        elif state is SessionState.ENDED:
            changes.update(ended_at=at, end_reason=reason)
        row = dataclasses.replace(row, **changes)  # type: ignore[arg-type]
        self.rows[session_id] = row
        self.beats[session_id] = time.monotonic()
        return row

    async def set_recording(self, session_id: VideoSessionId, info: RecordingInfo) -> None:
        """Attach the recording."""
        row = self.rows[session_id]
        self.rows[session_id] = dataclasses.replace(
            row,
            recording_path=info.path,
            recording_bytes=info.size_bytes,
            recording_duration_s=info.duration_s,
            recording_sha256=info.sha256,
        )

    async def get(self, session_id: VideoSessionId) -> VideoSession | None:
        """One session, or None."""
        return self.rows.get(session_id)

    async def touch(self, session_ids: Sequence[VideoSessionId], *, at: datetime) -> None:
        """Heartbeat."""
        for sid in session_ids:
            self.beats[sid] = time.monotonic()

    async def fail_stale(self, reason: str, *, at: datetime, stale_after_s: float) -> int:
        """Fail open sessions without a recent heartbeat."""
        limit = time.monotonic() - stale_after_s
        stale = [
            sid
            for sid, row in self.rows.items()
            if row.state in OPEN_STATES and self.beats.get(sid, 0.0) < limit
        ]
        for sid in stale:
            await self.set_state(sid, SessionState.FAILED, at=at, reason=reason)
        return len(stale)
