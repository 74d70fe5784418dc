"""The operation-status machine: allowed transitions, and alarms for the ones the rules refuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import RuleViolation
from domain.monitoring import EnterpriseId
from domain.status import (
    EnterpriseStatus,
    MaintenanceEnd,
    MaintenanceStart,
    Mode,
    Resume,
    ResumeRequest,
    Scope,
    Shutdown,
    TrialEnd,
    TrialPolicy,
    TrialStart,
    apply,
    approve_restart,
    check_trial_overrun,
    reject_restart,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ENT = EnterpriseId("91330102100000000X")
TRIAL = TrialPolicy(30, 365)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def rules(t) -> list[str]:
    return [r.key.rule for r in t.outcome.raises]


def shut(scope: Scope = Scope.PLANT, units: tuple[str, ...] = ()) -> Shutdown:
    return Shutdown("s", at(0), scope, units, "大修", None)


def test_shutdown_request_approve_resume_is_clean() -> None:
    s = EnterpriseStatus(ENT)
    t = apply(s, shut(), TRIAL)
    assert t.status.mode is Mode.SHUTDOWN
    t = apply(t.status, ResumeRequest("r", at(10), at(60), 0), TRIAL)
    assert t.status.mode is Mode.RESTART_REQUESTED
    assert t.new_request is not None
    approved = approve_restart(t.status, "r", at(20))
    assert approved.mode is Mode.RESTART_APPROVED
    t = apply(approved, Resume("x", at(30), "r"), TRIAL)
    assert t.status.mode is Mode.OPERATING
    assert t.status.shutdown_scope is None
    assert not t.outcome.raises


@pytest.mark.parametrize("pending", [False, True])
def test_resume_without_approval_raises_red_and_follows_the_site(pending: bool) -> None:
    s = apply(EnterpriseStatus(ENT), shut(), TRIAL).status
    if pending:
        s = apply(s, ResumeRequest("r", at(10), at(60), 0), TRIAL).status
    t = apply(s, Resume("x", at(30), None), TRIAL)
    assert rules(t) == ["resume_without_approval"]
    assert t.status.mode is Mode.OPERATING


def test_resume_while_operating_is_a_data_quality_alarm() -> None:
    t = apply(EnterpriseStatus(ENT), Resume("x", at(0), None), TRIAL)
    assert rules(t) == ["transition_not_allowed"]
    assert t.status.mode is Mode.OPERATING


def test_resume_request_without_shutdown_raises() -> None:
    t = apply(EnterpriseStatus(ENT), ResumeRequest("r", at(0), at(5), 0), TRIAL)
    assert rules(t) == ["transition_not_allowed"]
    assert t.new_request is None


def test_unit_shutdowns_merge_and_plant_wins() -> None:
    s = apply(EnterpriseStatus(ENT), shut(Scope.UNIT, ("U1",)), TRIAL).status
    s = apply(s, shut(Scope.UNIT, ("U2",)), TRIAL).status
    assert s.shutdown_units == ("U1", "U2")
    s = apply(s, shut(Scope.PLANT), TRIAL).status
    s = apply(s, shut(Scope.UNIT, ("U3",)), TRIAL).status
    assert s.shutdown_scope is Scope.PLANT


def test_approve_and_reject_need_the_pending_request() -> None:
    s = apply(EnterpriseStatus(ENT), shut(), TRIAL).status
    with pytest.raises(RuleViolation):
        approve_restart(s, "r", at(1))
    s = apply(s, ResumeRequest("r", at(10), at(60), 0), TRIAL).status
    with pytest.raises(RuleViolation):
        approve_restart(s, "other", at(11))
    back = reject_restart(s, "r", at(12))
    assert back.mode is Mode.SHUTDOWN
    assert back.restart_request is None


def test_maintenance_whole_and_partial() -> None:
    s = EnterpriseStatus(ENT)
    s = apply(s, MaintenanceStart("m1", at(0), "A", Scope.UNIT, ("U1",), None), TRIAL).status
    assert s.maintenance_scope is Scope.UNIT
    assert s.headline == "operating"
    s = apply(s, MaintenanceStart("m2", at(1), "B", Scope.PLANT, (), None), TRIAL).status
    assert s.headline == "maintenance_whole"
    s = apply(s, MaintenanceEnd("m3", at(2), "B"), TRIAL).status
    assert s.maintenance_scope is Scope.UNIT
    t = apply(s, MaintenanceEnd("m4", at(3), "nope"), TRIAL)
    assert rules(t) == ["maintenance_unknown"]


@pytest.mark.parametrize(
    ("days", "alarm"), [(None, True), (10, True), (30, False), (365, False), (400, True)]
)
def test_trial_period_limits(days: int | None, alarm: bool) -> None:
    end = at(days * 24 * 60) if days is not None else None
    t = apply(EnterpriseStatus(ENT), TrialStart("t", at(0), "TR", end), TRIAL)
    assert t.status.mode is Mode.TRIAL
    assert rules(t) == (["trial_period_invalid"] if alarm else [])


def test_trial_overrun_detected_by_check_and_at_the_end() -> None:
    s = apply(EnterpriseStatus(ENT), TrialStart("t", at(0), "TR", at(60 * 24 * 40)), TRIAL).status
    assert not check_trial_overrun(s, at(60 * 24 * 39)).raises
    over = check_trial_overrun(s, at(60 * 24 * 41))
    assert [r.key.rule for r in over.raises] == ["trial_overrun"]
    t = apply(s, TrialEnd("e", at(60 * 24 * 41), "TR"), TRIAL)
    assert rules(t) == ["trial_overrun"]
    assert [c.key.rule for c in t.outcome.clears] == ["trial_overrun"]
    assert t.status.mode is Mode.OPERATING
    on_time = apply(s, TrialEnd("e", at(60 * 24 * 39), "TR"), TRIAL)
    assert not on_time.outcome.raises


def test_trial_end_without_trial_raises() -> None:
    t = apply(EnterpriseStatus(ENT), TrialEnd("e", at(0), "TR"), TRIAL)
    assert rules(t) == ["transition_not_allowed"]


def test_resume_returns_to_trial_when_a_trial_is_open() -> None:
    s = apply(EnterpriseStatus(ENT), TrialStart("t", at(0), "TR", at(60 * 24 * 60)), TRIAL).status
    s = apply(s, shut(), TRIAL).status
    s = apply(s, ResumeRequest("r", at(10), at(60), 0), TRIAL).status
    s = approve_restart(s, "r", at(11))
    assert apply(s, Resume("x", at(12), "r"), TRIAL).status.mode is Mode.TRIAL
