"""Alarm lifecycle and escalation, telemetry thresholds, presence, commitment cross-check."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from config.policy_monitoring import load_monitoring_policy
from config.settings import DEFAULT_POLICY_DIR
from domain.alarms import Alarm, AlarmState, acknowledge, close, escalate, escalation_due
from domain.commitment import Actuals, Commitment, cross_check, mismatch_outcome, missing_outcome
from domain.errors import RuleViolation, ValidationFailed
from domain.monitoring import AlarmId, EnterpriseId, Severity
from domain.presence import Presence, counts_as_activity, offline_outcome
from domain.telemetry import Level, LevelSeverities, TagLimits, TagState, evaluate, level_outcome

POLICY = load_monitoring_policy(DEFAULT_POLICY_DIR)
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ENT = EnterpriseId("91330102100000000X")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def alarm(**kw) -> Alarm:
    base = Alarm(
        id=AlarmId(1),
        enterprise_id=ENT,
        rule="gas_out_of_limits",
        subject="op:1",
        severity=Severity.YELLOW,
        state=AlarmState.ACTIVE,
        message="m",
        evidence={},
        raised_at=T0,
        last_seen_at=T0,
        occurrences=1,
        cleared=False,
        cleared_at=None,
        ack_due_at=at(600),
        escalation_level=0,
        acked_by=None,
        acked_at=None,
        closed_by=None,
        closed_at=None,
        cause_category=None,
        action_taken=None,
    )
    return replace(base, **kw)


CAUSES = frozenset(POLICY.causes)


def test_lifecycle_active_acknowledged_closed() -> None:
    a = acknowledge(alarm(), by="duty", at=at(60))
    assert a.state is AlarmState.ACKNOWLEDGED
    with pytest.raises(RuleViolation):
        acknowledge(a, by="duty", at=at(61))
    with pytest.raises(ValidationFailed):
        close(a, by="duty", at=at(70), cause_category="bogus", action_taken="x", causes=CAUSES)
    with pytest.raises(ValidationFailed):
        close(
            a,
            by="duty",
            at=at(70),
            cause_category="equipment_fault",
            action_taken=" ",
            causes=CAUSES,
        )
    c = close(
        a,
        by="sup",
        at=at(80),
        cause_category="equipment_fault",
        action_taken="更换探头",
        causes=CAUSES,
    )
    assert c.state is AlarmState.CLOSED
    assert c.acked_by == "duty"
    with pytest.raises(RuleViolation):
        close(c, by="sup", at=at(90), cause_category="other", action_taken="again", causes=CAUSES)


def test_closing_an_active_alarm_acknowledges_it_too() -> None:
    c = close(
        alarm(),
        by="sup",
        at=at(5),
        cause_category="false_alarm",
        action_taken="核实误报",
        causes=CAUSES,
    )
    assert c.acked_by == "sup"
    assert c.acked_at == at(5)


def test_escalation_raises_severity_and_stops_at_the_limit() -> None:
    spec = POLICY.rule("gas_out_of_limits")
    a = alarm()
    assert not escalation_due(a, spec, at(599))
    assert escalation_due(a, spec, at(600))
    a = escalate(a, spec, at(600))
    assert a.severity is Severity.ORANGE
    assert a.ack_due_at == at(600) + spec.escalate_every
    a = escalate(a, spec, a.ack_due_at)
    assert a.severity is Severity.RED
    assert not escalation_due(a, spec, at(10**6))  # max_escalations reached
    assert Severity.RED.raised() is Severity.RED
    assert not escalation_due(acknowledge(alarm(), by="d", at=at(1)), spec, at(10**6))


LIMITS = TagLimits(hh=90, h=80, l=20, ll=10, deadband=2, delay_s=5)


def feed(values: list[tuple[float, float]], limits: TagLimits = LIMITS) -> list[Level]:
    state, changes = TagState(), []
    for t, v in values:
        state, level = evaluate(limits, state, v, at(t))
        if level is not None:
            changes.append(level)
    return changes


def test_threshold_needs_its_delay() -> None:
    assert feed([(0, 85), (3, 85)]) == []
    assert feed([(0, 85), (5, 85)]) == [Level.H]
    assert feed([(0, 85), (3, 70), (6, 85)]) == []


def test_deadband_keeps_the_alarm_until_clearly_back() -> None:
    changes = feed([(0, 85), (5, 85), (6, 79), (7, 78.5), (8, 77.9)])
    assert changes == [Level.H, Level.NORMAL]


def test_hh_ll_and_immediate_downgrade() -> None:
    assert feed([(0, 95), (5, 95), (6, 87)]) == [Level.HH, Level.H]
    assert feed([(0, 5), (5, 5), (6, 30)]) == [Level.LL, Level.NORMAL]
    assert feed([(0, 95)], TagLimits(hh=90)) == [Level.HH]


def test_level_outcome_severity() -> None:
    sev = LevelSeverities(Severity.ORANGE, Severity.YELLOW)
    hh = level_outcome(ENT, "T1", Level.HH, 95, LIMITS, T0, sev)
    assert hh.raises[0].severity is Severity.ORANGE
    assert (
        level_outcome(ENT, "T1", Level.H, 85, LIMITS, T0, sev).raises[0].severity is Severity.YELLOW
    )
    assert level_outcome(ENT, "T1", Level.NORMAL, 50, LIMITS, T0, sev).clears


def test_presence_rules() -> None:
    timeout = timedelta(seconds=120)
    p = Presence(True, T0, at(0))
    assert p.is_online(at(120), timeout)
    assert not p.is_online(at(121), timeout)
    assert offline_outcome(ENT, p, at(121), timeout).raises
    assert offline_outcome(ENT, p, at(100), timeout).clears
    assert offline_outcome(ENT, Presence(False, None, None), at(0), timeout).raises
    assert not counts_as_activity(online=False, retained=False, has_ts=True)
    assert not counts_as_activity(online=True, retained=True, has_ts=False)
    assert counts_as_activity(online=True, retained=True, has_ts=True)
    assert counts_as_activity(online=None, retained=False, has_ts=False)
    # A planned stop: offline at once, never alarmed; online again undoes it.
    stopped = Presence(False, at(0), at(0), planned_stop=True)
    assert not stopped.is_online(at(1), timeout)
    assert offline_outcome(ENT, stopped, at(3600), timeout).clears
    assert offline_outcome(ENT, Presence(False, at(0), at(0)), at(3600), timeout).raises


def commitment(**kw) -> Commitment:
    base = Commitment(
        enterprise_id=ENT,
        day=date(2026, 3, 1),
        units_total=3,
        units_running=3,
        units_stopped=0,
        special_ops={("hot_work", "1"): 2, ("confined_space", None): 1},
        maintenance=0,
        contractor_work=0,
        trial_production=False,
        startup_shutdown=False,
        risk_level=3,
        committed_by="张三",
        committed_at=T0,
    )
    return replace(base, **kw)


def test_cross_check() -> None:
    c = commitment()
    assert cross_check(c, Actuals({("hot_work", "1"): 2, ("confined_space", None): 1})) == []
    assert cross_check(c, Actuals({("hot_work", "1"): 1})) == []
    items = [m.item for m in cross_check(c, Actuals({("hot_work", "1"): 3}))]
    assert items == ["special_ops.hot_work"]
    items = [m.item for m in cross_check(c, Actuals({("hot_work", "2"): 1}))]
    assert items == ["special_ops.hot_work.2"]
    items = [m.item for m in cross_check(c, Actuals({("lifting", "1"): 1}))]
    assert items == ["special_ops.lifting"]
    facts = Actuals(maintenance_started=1, trial_open=True, startup_shutdown_events=1)
    assert [m.item for m in cross_check(c, facts)] == [
        "maintenance",
        "trial_production",
        "startup_shutdown",
    ]
    assert mismatch_outcome(c, [], T0).clears
    assert mismatch_outcome(c, cross_check(c, facts), T0).raises


def test_missing_commitment_after_due_time() -> None:
    assert not missing_outcome(ENT, date(2026, 3, 1), at(60), at(59)).raises
    assert missing_outcome(ENT, date(2026, 3, 1), at(60), at(60)).raises
