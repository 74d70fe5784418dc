"""Live video sessions: states, purposes, the session record and its allowed transitions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NewType

from domain.errors import RuleViolation, ValidationFailed
from domain.i18n import Message, msg

VideoSessionId = NewType("VideoSessionId", str)


class SessionState(StrEnum):
    """Life of a session: requested → connecting → live → ended, or failed from any open state."""

    REQUESTED = "requested"
    CONNECTING = "connecting"
    LIVE = "live"
    ENDED = "ended"
    FAILED = "failed"


OPEN_STATES = frozenset({SessionState.REQUESTED, SessionState.CONNECTING, SessionState.LIVE})

_ALLOWED: dict[SessionState, frozenset[SessionState]] = {
    SessionState.REQUESTED: frozenset(
        {SessionState.CONNECTING, SessionState.ENDED, SessionState.FAILED}
    ),
    SessionState.CONNECTING: frozenset(
        {SessionState.LIVE, SessionState.ENDED, SessionState.FAILED}
    ),
    SessionState.LIVE: frozenset({SessionState.ENDED, SessionState.FAILED}),
    SessionState.ENDED: frozenset(),
    SessionState.FAILED: frozenset(),
}


class Purpose(StrEnum):
    """Why the video was asked for (seed measure 15: remote guidance of high-risk operations)."""

    GUIDANCE = "guidance"
    RESTART_VERIFICATION = "restart_verification"
    SHUTDOWN = "shutdown"
    MAINTENANCE = "maintenance"
    SPECIAL_OPERATION = "special_operation"
    TRIAL_PRODUCTION = "trial_production"
    ALARM = "alarm"
    INSPECTION = "inspection"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class SessionLinks:
    """Optional records the session is evidence for (ids owned by other rooms, kept as text)."""

    alarm_id: str | None = None
    restart_request_id: str | None = None
    inspection_id: str | None = None


@dataclass(frozen=True, slots=True)
class VideoSession:
    """One stored video session."""

    id: VideoSessionId
    enterprise_id: str
    requested_by: str
    purpose: Purpose
    note: str
    links: SessionLinks
    state: SessionState
    failure_reason: str | None
    end_reason: str | None
    requested_at: datetime
    connecting_at: datetime | None
    live_at: datetime | None
    ended_at: datetime | None
    recording_path: str | None
    recording_bytes: int | None
    recording_duration_s: float | None
    recording_sha256: str | None

    @property
    def is_open(self) -> bool:
        """Whether the session can still carry video."""
        return self.state in OPEN_STATES


@dataclass(frozen=True, slots=True)
class NewSession:
    """What a request stores before the site is asked."""

    id: VideoSessionId
    enterprise_id: str
    requested_by: str
    purpose: Purpose
    note: str
    links: SessionLinks
    requested_at: datetime


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    """Where a finished recording is and what it holds."""

    path: str
    size_bytes: int
    duration_s: float
    sha256: str | None


def check_transition(current: SessionState, target: SessionState) -> None:
    """Raise RuleViolation unless `current` may move to `target`."""
    if target not in _ALLOWED[current]:
        raise RuleViolation(msg("video.bad_transition", current=current.value, target=target.value))


def parse_purpose(value: str) -> Purpose:
    """Return the Purpose for `value` or raise ValidationFailed listing the known ones."""
    try:
        return Purpose(value)
    except ValueError:
        known = ", ".join(p.value for p in Purpose)
        raise ValidationFailed(
            msg("video.purpose_unknown", value=value, known=known),
            details={"field": "purpose"},
        ) from None


def admission_problem(
    *,
    open_total: int,
    open_by_requester: int,
    max_sessions: int,
    max_per_user: int,
    duty_reserve: int,
    may_use_reserve: bool,
) -> Message | None:
    """Why a new session may not open now (a catalogue message), or None. One account may hold
    `max_per_user` sessions; the last `duty_reserve` of the global slots are kept for duty
    staff (bureau interpretation: a duty room must always be able to call a site during an
    alarm)."""
    if open_total >= max_sessions:
        return msg("video.limit_total", open=open_total, limit=max_sessions)
    if open_by_requester >= max_per_user:
        return msg("video.limit_per_user", open=open_by_requester, limit=max_per_user)
    if not may_use_reserve and open_total >= max_sessions - duty_reserve:
        return msg("video.limit_duty_reserve", reserve=duty_reserve)
    return None


def may_hang_up(*, staff_role: str, username: str, requested_by: str) -> bool:
    """Duty staff, supervisors and admins may end any session; an inspector only its own."""
    return staff_role in {"admin", "supervisor", "duty"} or username == requested_by
