"""Alarms: the rule catalogue's shape, the lifecycle active → acknowledged → closed, escalation."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.errors import RuleViolation, ValidationFailed
from domain.i18n import Message, msg, render
from domain.monitoring import AlarmId, EnterpriseId, Severity


class AlarmState(StrEnum):
    """Where an alarm is in its lifecycle."""

    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class Rule(StrEnum):
    """Every rule that raises alarms; config/alarm_rules.yaml must describe each one."""

    RESUME_WITHOUT_APPROVAL = "resume_without_approval"
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    TRIAL_PERIOD_INVALID = "trial_period_invalid"
    TRIAL_OVERRUN = "trial_overrun"
    MAINTENANCE_UNKNOWN = "maintenance_unknown"
    MAINTENANCE_OPEN_LIMIT = "maintenance_open_limit"
    PERMIT_EXPIRED = "permit_expired"
    PERMIT_TOO_LONG = "permit_too_long"
    PERMIT_NOT_YET_VALID = "permit_not_yet_valid"
    GAS_TEST_MISSING = "gas_test_missing"
    GAS_TEST_STALE = "gas_test_stale"
    RETEST_MISSING = "retest_missing"
    GAS_OUT_OF_LIMITS = "gas_out_of_limits"
    GUARDIAN_MISSING = "guardian_missing"
    GRADE_MISSING = "grade_missing"
    GUARDIAN_CONFLICT = "guardian_conflict"
    VIDEO_MISSING = "video_missing"
    TEMP_POWER_OUTLASTS = "temp_power_outlasts"
    OPERATION_UNKNOWN = "operation_unknown"
    COMMITMENT_MISSING = "commitment_missing"
    COMMITMENT_MISMATCH = "commitment_mismatch"
    TELEMETRY_LIMIT = "telemetry_limit"
    TELEMETRY_STALE = "telemetry_stale"
    OFFLINE = "offline"
    STORED_DATA_INVALID = "stored_data_invalid"
    RECTIFICATION_OVERDUE = "rectification_overdue"


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """How one rule's alarms are handled: severity, acknowledgement deadline, escalation."""

    rule: str
    title: str
    severity: Severity
    ack_within: timedelta
    escalate_every: timedelta
    max_escalations: int
    category: str


@dataclass(frozen=True, slots=True)
class Alarm:
    """One alarm as stored."""

    id: AlarmId
    enterprise_id: EnterpriseId
    rule: str
    subject: str
    severity: Severity
    state: AlarmState
    message: str
    evidence: dict[str, Any]
    raised_at: datetime
    last_seen_at: datetime
    occurrences: int
    cleared: bool
    cleared_at: datetime | None
    ack_due_at: datetime
    escalation_level: int
    acked_by: str | None
    acked_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None
    cause_category: str | None
    action_taken: str | None
    #: The catalogue code and parameters `message` was rendered from (None before 0115).
    message_code: str | None = None
    message_params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        """The alarm's text in `lang`, re-rendered from its code when it has one."""
        if self.message_code is None:
            return self.message
        return render(Message(self.message_code, self.message_params), lang)


def acknowledge(alarm: Alarm, *, by: str, at: datetime) -> Alarm:
    """Acknowledge an active alarm; acknowledging twice or a closed alarm is refused."""
    if alarm.state is not AlarmState.ACTIVE:
        raise RuleViolation(
            msg("alarm.ack_not_active", id=alarm.id, state=alarm.state.value),
            details={"state": alarm.state.value},
        )
    return replace(alarm, state=AlarmState.ACKNOWLEDGED, acked_by=by, acked_at=at)


def close(
    alarm: Alarm,
    *,
    by: str,
    at: datetime,
    cause_category: str,
    action_taken: str,
    causes: frozenset[str],
) -> Alarm:
    """Close an alarm; needs a known cause category and a description of the action taken."""
    if alarm.state is AlarmState.CLOSED:
        raise RuleViolation(msg("alarm.already_closed", id=alarm.id))
    if cause_category not in causes:
        raise ValidationFailed(
            msg("alarm.cause_unknown", cause_category=cause_category),
            details={"allowed": sorted(causes)},
        )
    if len(action_taken.strip()) < 2:
        raise ValidationFailed(msg("alarm.action_required"))
    acked_by = alarm.acked_by or by
    acked_at = alarm.acked_at or at
    return replace(
        alarm,
        state=AlarmState.CLOSED,
        acked_by=acked_by,
        acked_at=acked_at,
        closed_by=by,
        closed_at=at,
        cause_category=cause_category,
        action_taken=action_taken.strip(),
    )


def escalation_due(alarm: Alarm, spec: RuleSpec, now: datetime) -> bool:
    """Whether an unacknowledged alarm is past its deadline and may still be escalated."""
    return (
        alarm.state is AlarmState.ACTIVE
        and now >= alarm.ack_due_at
        and alarm.escalation_level < spec.max_escalations
    )


def escalate(alarm: Alarm, spec: RuleSpec, now: datetime) -> Alarm:
    """Raise the severity one step, count the escalation and set the next deadline."""
    return replace(
        alarm,
        severity=alarm.severity.raised(),
        escalation_level=alarm.escalation_level + 1,
        ack_due_at=now + spec.escalate_every,
    )
