"""Event-time order: every arrival order of a short sequence ends in the event-time state.

The simulator below does what the ingest does per enterprise: apply an event that is newer than
the last applied one (`step`), otherwise replay the log in order and reconcile the alarms; its
alarm table keeps the states the database keeps (open, cleared, closed as superseded).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from config.policy_monitoring import load_monitoring_policy
from config.settings import DEFAULT_POLICY_DIR
from domain import replay as rp
from domain import special_ops as so
from domain import status as st
from domain.alarms import Rule
from domain.monitoring import AlarmClear, AlarmKey, AlarmRaise, EnterpriseId, OpId

_POLICY = load_monitoring_policy(DEFAULT_POLICY_DIR)
POLICIES = rp.Policies(_POLICY.trial, _POLICY.special_ops)
#: Tuesday 2026-03-03 10:00 Asia/Shanghai: a working day in daytime (no 升级管理).
T0 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
ENT = EnterpriseId("91652300MA7800001X")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def shutdown(m: float) -> rp.Ordered:
    return rp.Ordered(st.Shutdown(f"sd{m}", at(m), st.Scope.PLANT, (), "检修", None))


def resume_request(m: float) -> rp.Ordered:
    return rp.Ordered(st.ResumeRequest(f"rr{m}", at(m), at(m + 60), 0))


def resume(m: float) -> rp.Ordered:
    return rp.Ordered(st.Resume(f"re{m}", at(m), None))


def decision(m: float, request: str, approved: bool = True) -> rp.Ordered:
    return rp.Ordered(rp.RestartDecision(f"decision:{m}", at(m), request, approved))


def maint_start(m: float, maint: str = "M1") -> rp.Ordered:
    return rp.Ordered(st.MaintenanceStart(f"ms{m}", at(m), maint, st.Scope.UNIT, ("U1",), None))


def maint_end(m: float, maint: str = "M1") -> rp.Ordered:
    return rp.Ordered(st.MaintenanceEnd(f"me{m}", at(m), maint))


def op_start(m: float, op: str = "OP1") -> rp.Ordered:
    start = so.OpStart(
        event_id=f"os{m}",
        ts=at(m),
        op_id=OpId(op),
        op_type=so.OpType.HOT_WORK,
        grade="1",
        permit_no="DH-1",
        valid_from=at(m - 5),
        valid_to=at(m + 240),
        location="罐区",
        guardian="李四",
        gas_test=so.GasReading(at(m - 10), o2_pct=20.9, lel_pct=0.0, gas="CH4"),
        guardian_cert="JH-0001",
    )
    return rp.Ordered(rp.OpStartEvent(start))


def op_pause(m: float, op: str = "OP1") -> rp.Ordered:
    return rp.Ordered(rp.OpPause(f"op{m}", at(m), OpId(op)))


def op_resume(m: float, op: str = "OP1") -> rp.Ordered:
    return rp.Ordered(rp.OpResume(f"or{m}", at(m), OpId(op)))


def op_end(m: float, op: str = "OP1") -> rp.Ordered:
    return rp.Ordered(rp.OpEnd(f"oe{m}", at(m), OpId(op)))


def gas(m: float, op: str = "OP1") -> rp.Ordered:
    reading = so.GasReading(at(m), o2_pct=20.9, lel_pct=0.0, gas="CH4")
    return rp.Ordered(rp.OpGasTest(f"gt{m}", at(m), OpId(op), reading))


@dataclass
class StoredAlarm:
    key: AlarmKey
    observed_at: str
    cleared: bool = False
    closed_reason: str | None = None


@dataclass
class Site:
    """One enterprise as the ingest keeps it: state, last applied key, log and alarm table."""

    state: rp.EnterpriseState = field(default_factory=lambda: rp.EnterpriseState.empty(ENT))
    last: rp.OrderKey | None = None
    log: list[rp.Ordered] = field(default_factory=list)
    alarms: list[StoredAlarm] = field(default_factory=list)
    replays: int = 0

    def open(self) -> dict[AlarmKey, StoredAlarm]:
        return {a.key: a for a in self.alarms if a.closed_reason is None}

    def apply_actions(self, actions: tuple[AlarmRaise | AlarmClear, ...]) -> None:
        for action in actions:
            current = self.open().get(action.key)
            if isinstance(action, AlarmRaise):
                if current is None:
                    observed = action.at.isoformat() if action.at else ""
                    self.alarms.append(StoredAlarm(action.key, observed))
                else:
                    current.cleared = False
            elif current is not None:
                current.cleared = True

    def arrive(self, o: rp.Ordered) -> None:
        self.log.append(o)
        if self.last is None or o.key > self.last:
            s = rp.step(self.state, o.event, POLICIES)
            self.state, self.last = s.state, o.key
            self.apply_actions(s.outcome.actions)
            return
        self.replays += 1
        done = rp.replay(rp.EnterpriseState.empty(ENT), self.log, POLICIES)
        self.state, self.last = done.state, done.last_key
        open_now = self.open()
        seen = {
            (a.key, a.observed_at)
            for a in self.alarms
            if a.closed_reason not in (None, rp.SUPERSEDED_CAUSE)
        }
        plan = rp.reconcile(done.outcome, set(open_now), seen)
        for key in plan.superseded:
            open_now[key].closed_reason = rp.SUPERSEDED_CAUSE
        self.apply_actions(plan.raise_clear.actions)

    def live_alarms(self) -> set[AlarmKey]:
        return {a.key for a in self.alarms if a.closed_reason is None and not a.cleared}


def in_order(events: list[rp.Ordered]) -> Site:
    site = Site()
    for o in sorted(events, key=lambda o: o.key):
        site.arrive(o)
    assert site.replays == 0
    return site


def check_every_permutation(events: list[rp.Ordered]) -> int:
    expected = in_order(events)
    replays = 0
    for perm in itertools.permutations(events):
        site = Site()
        for o in perm:
            site.arrive(o)
        assert site.state == expected.state, [o.event.event_id for o in perm]
        assert site.live_alarms() == expected.live_alarms(), [o.event.event_id for o in perm]
        replays += site.replays
    return replays


def test_order_key_is_ts_then_seq_then_event_id() -> None:
    a = rp.Ordered(st.Resume("b", at(1), None), seq=2)
    b = rp.Ordered(st.Resume("a", at(1), None), seq=3)
    c = rp.Ordered(st.Resume("z", at(1), None))
    d = rp.Ordered(st.Resume("a", at(0), None), seq=99)
    assert sorted([a, b, c, d], key=lambda o: o.key) == [d, c, a, b]


def test_shutdown_then_resume_request_in_either_order() -> None:
    """The issue's case: resume_request processed before its shutdown."""
    site = Site()
    site.arrive(resume_request(2))
    assert site.live_alarms() == {AlarmKey(ENT, Rule.TRANSITION_NOT_ALLOWED, "event:rr2")}
    site.arrive(shutdown(1))
    assert site.state.status.mode is st.Mode.RESTART_REQUESTED
    assert site.state.status.restart_request == "rr2"
    assert site.live_alarms() == set()
    closed = [a for a in site.alarms if a.closed_reason == rp.SUPERSEDED_CAUSE]
    assert [a.key.rule for a in closed] == [Rule.TRANSITION_NOT_ALLOWED]


def test_status_sequence_every_permutation() -> None:
    """shutdown / resume_request / approval / resume / maintenance, all 720 arrival orders."""
    events = [
        shutdown(1),
        resume_request(2),
        maint_start(3),
        decision(4, "rr2"),
        resume(5),
        maint_end(6),
    ]
    expected = in_order(events)
    assert expected.state.status.mode is st.Mode.OPERATING
    assert len(expected.state.status.maintenance) == 0
    assert expected.live_alarms() == set()
    assert check_every_permutation(events) > 0


def test_special_operation_sequence_every_permutation() -> None:
    """start / pause / gas test / resume / end with maintenance around it: 5,040 orders."""
    events = [
        maint_start(1),
        op_start(2),
        op_pause(3),
        gas(4),
        op_resume(5),
        op_end(6),
        maint_end(7),
    ]
    expected = in_order(events)
    op = expected.state.ops["OP1"]
    assert op.state is so.OpState.ENDED
    assert op.interruptions == 1
    assert expected.live_alarms() == set()
    assert check_every_permutation(events) > 0


def test_mixed_sequence_with_real_alarms_every_permutation() -> None:
    """Shutdown and resume without approval (a true alarm) beside a long pause without retest
    (a true alarm): the true alarms stay, the ones only the wrong order raised are closed."""
    events = [
        shutdown(1),
        op_start(2),
        op_pause(3),
        resume(4),
        op_resume(200),
        op_end(201),
    ]
    expected = in_order(events)
    assert expected.live_alarms() == {
        AlarmKey(ENT, Rule.RESUME_WITHOUT_APPROVAL, "status"),
        AlarmKey(ENT, Rule.RETEST_MISSING, "op:OP1"),
    }
    assert expected.state.status.mode is st.Mode.OPERATING
    check_every_permutation(events)


@pytest.mark.parametrize("approved", [True, False])
def test_decision_on_a_request_voided_by_a_late_shutdown_is_ignored(approved: bool) -> None:
    site = Site()
    for o in (shutdown(1), resume_request(2), decision(3, "rr2", approved)):
        site.arrive(o)
    expected = st.Mode.RESTART_APPROVED if approved else st.Mode.SHUTDOWN
    assert site.state.status.mode is expected
    site.arrive(shutdown(2.5))
    assert site.state.status.mode is st.Mode.SHUTDOWN
    assert site.state.status.restart_request is None


def test_reconcile_does_not_reraise_what_a_person_closed() -> None:
    raise_at = at(1)
    key = AlarmKey(ENT, Rule.RESUME_WITHOUT_APPROVAL, "status")
    outcome = rp.RuleOutcome((AlarmRaise(key, "x", {}, raise_at),))
    plan = rp.reconcile(outcome, set(), {(key, raise_at.isoformat())})
    assert plan.raise_clear.actions == ()
    plan = rp.reconcile(outcome, set(), set())
    assert len(plan.raise_clear.actions) == 1


def test_a_later_replay_raises_again_what_an_earlier_one_superseded() -> None:
    """resume(3), resume_request(4) → alarm for the request; late shutdown(3.5) → the request
    is valid, alarm superseded; late resume(3.7) → it is invalid again: a new open alarm."""
    site = Site()
    request_alarm = AlarmKey(ENT, Rule.TRANSITION_NOT_ALLOWED, "event:rr4")
    for o in (resume(3), resume_request(4)):
        site.arrive(o)
    assert request_alarm in site.live_alarms()
    site.arrive(shutdown(3.5))
    assert request_alarm not in site.live_alarms()
    site.arrive(resume(3.7))
    assert request_alarm in site.live_alarms()
    assert (
        site.live_alarms()
        == in_order([resume(3), resume_request(4), shutdown(3.5), resume(3.7)]).live_alarms()
    )


def test_a_long_history_of_open_maintenance_replays_in_linear_memory() -> None:
    """Issue 11: the fault suite's fuzz stalled the ingest for everyone when a late event made
    an enterprise with 20,000 open maintenance jobs replay: every step kept its state (all open
    jobs) — 1.5 GB — and found the new job by a Python loop. Now the steps keep no state."""
    import tracemalloc

    n = 3000
    events = [
        rp.Ordered(st.MaintenanceStart(f"m{i}", at(i), f"job{i}", st.Scope.UNIT, ("U1",), None))
        for i in range(n)
    ]
    tracemalloc.start()
    try:
        done = rp.replay(rp.EnterpriseState.empty(ENT), events, POLICIES)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(done.state.status.maintenance) == n
    assert done.state.status.maintenance.get(f"job{n - 1}") is not None
    assert set(done.maintenance) == {f"job{i}" for i in range(n)}
    assert len(done.steps) == n
    # Before: about n²/2 references kept (≈ 36 MB for 3,000); now the last state and the steps.
    assert peak < 8 * 2**20, f"{peak / 2**20:.1f} MiB"
