"""Event-time order of one enterprise's state: the order key, one step of the state machines,
the replay of a log in that order and the reconciliation of alarms after a replay (pure, no I/O).

The status, special-operation and maintenance state of an enterprise is defined as the result of
its events applied in event-time order (ts, then the source's optional `seq`, then the event id
so that the order is total). The ingest applies events that arrive in order one step at a time
(`step`); an event older than the last one applied makes it fold the enterprise's log again in
order (`replay`) and reconcile the alarms the wrong order raised or cleared (`reconcile`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from domain import special_ops as so
from domain import status as st
from domain.alarms import Rule
from domain.errors import RuleViolation
from domain.i18n import msg, render
from domain.monitoring import (
    NOTHING,
    AlarmClear,
    AlarmKey,
    AlarmRaise,
    EnterpriseId,
    OpId,
    RuleOutcome,
    raise_one,
)

#: (ts, seq or -1, event id): the total event-time order of one enterprise's events.
OrderKey = tuple[datetime, int, str]

#: Rules raised only by applying an event: after a replay, an open alarm of one of these rules
#: that the event-time order does not raise was caused by the wrong order and is superseded.
#: (Rules that periodic checks also raise — permit expiry, stale gas test, trial overrun — are
#: only raised or cleared by a replay, never closed by it.)
EVENT_RULES = frozenset(
    {
        Rule.RESUME_WITHOUT_APPROVAL,
        Rule.TRANSITION_NOT_ALLOWED,
        Rule.TRIAL_PERIOD_INVALID,
        Rule.MAINTENANCE_UNKNOWN,
        Rule.PERMIT_TOO_LONG,
        Rule.PERMIT_NOT_YET_VALID,
        Rule.GAS_TEST_MISSING,
        Rule.RETEST_MISSING,
        Rule.GAS_OUT_OF_LIMITS,
        Rule.GUARDIAN_MISSING,
        Rule.GRADE_MISSING,
        Rule.OPERATION_UNKNOWN,
        Rule.GUARDIAN_CONFLICT,
        Rule.TEMP_POWER_OUTLASTS,
    }
)

#: The reason recorded on an alarm closed because a late event changed the order (zh-CN first).
SUPERSEDED_CAUSE = "superseded_by_late_event"
#: Catalogue code of the text recorded as the action taken when closing such an alarm.
SUPERSEDED_TEXT = "alarm.superseded_by_late_event"


def order_key(ts: datetime, seq: int | None, event_id: str) -> OrderKey:
    """The event-time order key; an event without `seq` sorts before one with it at equal ts."""
    return (ts, -1 if seq is None else seq, event_id)


@dataclass(frozen=True, slots=True)
class OpGasTest:
    """气体分析 reported for an operation."""

    event_id: str
    ts: datetime
    op_id: OpId
    reading: so.GasReading


@dataclass(frozen=True, slots=True)
class OpPause:
    """特殊作业中断."""

    event_id: str
    ts: datetime
    op_id: OpId


@dataclass(frozen=True, slots=True)
class OpResume:
    """特殊作业恢复."""

    event_id: str
    ts: datetime
    op_id: OpId


@dataclass(frozen=True, slots=True)
class OpEnd:
    """特殊作业结束."""

    event_id: str
    ts: datetime
    op_id: OpId


@dataclass(frozen=True, slots=True)
class RestartDecision:
    """Duty staff approved or rejected a restart request (replayed at the decision's time)."""

    event_id: str
    ts: datetime
    request: str
    approved: bool


@dataclass(frozen=True, slots=True)
class OpStartEvent:
    """特殊作业开始 (the domain start wrapped so every event here has an `op_id` or none)."""

    start: so.OpStart

    @property
    def event_id(self) -> str:
        """The start's event id."""
        return self.start.event_id

    @property
    def ts(self) -> datetime:
        """The start's time."""
        return self.start.ts


OpEvent = OpStartEvent | OpGasTest | OpPause | OpResume | OpEnd
StateEvent = st.StatusEvent | OpEvent | RestartDecision


@dataclass(frozen=True, slots=True)
class Ordered:
    """One event with the source's optional sequence number."""

    event: StateEvent
    seq: int | None = None

    @property
    def key(self) -> OrderKey:
        """Its place in event-time order."""
        return order_key(self.event.ts, self.seq, self.event.event_id)


@dataclass(frozen=True, slots=True)
class Policies:
    """The rules a step applies."""

    trial: st.TrialPolicy
    special_ops: so.SpecialOpsPolicy


@dataclass(frozen=True, slots=True)
class EnterpriseState:
    """Status, tracked operations and the last gas analysis per operation of one enterprise."""

    status: st.EnterpriseStatus
    ops: Mapping[str, so.SpecialOp] = field(default_factory=dict)
    prior_tests: Mapping[str, so.GasReading] = field(default_factory=dict)
    #: A video session of the site is live (特级动火 needs video; the periodic check re-judges).
    video_live: bool = False

    @staticmethod
    def empty(ent: EnterpriseId) -> EnterpriseState:
        """The state before any event."""
        return EnterpriseState(st.EnterpriseStatus(ent))


@dataclass(frozen=True, slots=True)
class GasTestRow:
    """A gas analysis to store (with its problems; empty when acceptable)."""

    op_id: OpId
    reading: so.GasReading
    problems: list[str]
    event_id: str


@dataclass(frozen=True, slots=True)
class Step:
    """What one event did: the new state, alarms, and the records it asks to be written."""

    state: EnterpriseState
    outcome: RuleOutcome = NOTHING
    new_request: st.ResumeRequest | None = None
    voided_request: bool = False
    test: GasTestRow | None = None
    op_changed: str | None = None
    status_changed: bool = False


def step(state: EnterpriseState, event: StateEvent, policies: Policies) -> Step:
    """Apply one event to the state (the same code for the in-order path and the replay)."""
    ent = state.status.enterprise_id
    if isinstance(event, RestartDecision):
        return _decision(state, event)
    if isinstance(event, OpStartEvent | OpGasTest | OpPause | OpResume | OpEnd):
        return _op_step(state, event, policies, ent)
    before = state.status
    t = st.apply(before, event, policies.trial)
    voided = isinstance(event, st.Shutdown) and before.restart_request is not None
    return Step(
        replace(state, status=t.status),
        t.outcome,
        new_request=t.new_request,
        voided_request=voided,
        status_changed=True,
    )


def _decision(state: EnterpriseState, ev: RestartDecision) -> Step:
    try:
        if ev.approved:
            status = st.approve_restart(state.status, ev.request, ev.ts)
        else:
            status = st.reject_restart(state.status, ev.request, ev.ts)
    except RuleViolation:
        # The decision was taken on a request that event-time order has since voided.
        return Step(state)
    return Step(replace(state, status=status), status_changed=True)


def _op_step(state: EnterpriseState, ev: OpEvent, policies: Policies, ent: EnterpriseId) -> Step:
    policy = policies.special_ops
    if isinstance(ev, OpStartEvent):
        start = ev.start
        key = str(start.op_id)
        op, outcome = so.start(
            start,
            ent,
            state.prior_tests.get(key),
            policy,
            video_live=state.video_live,
            others=state.ops.values(),
        )
        test = None
        if start.gas_test is not None:
            problems = [render(p) for p in so.reading_problems(start.gas_test, start, policy)]
            test = GasTestRow(op.op_id, start.gas_test, problems, start.event_id)
        return Step(_with_op(state, op), outcome, test=test, op_changed=key)
    key = str(ev.op_id)
    if isinstance(ev, OpGasTest):
        current = state.ops.get(key)
        problems = [render(p) for p in so.reading_problems(ev.reading, current, policy)]
        row = GasTestRow(ev.op_id, ev.reading, problems, ev.event_id)
        prior = {**state.prior_tests, key: ev.reading}
        state = replace(state, prior_tests=prior)
        if current is None or current.state is so.OpState.ENDED:
            return Step(state, test=row)
        op, outcome = so.gas_test(current, ev.reading, policy)
        return Step(_with_op(state, op), outcome, test=row, op_changed=key)
    current = state.ops.get(key)
    if current is None:
        return Step(state, _unknown_op(ent, ev))
    if isinstance(ev, OpPause):
        op, outcome = so.pause(current, ev.ts), NOTHING
    elif isinstance(ev, OpResume):
        op, outcome = so.resume(current, ev.ts, policy)
    else:
        op, outcome = so.end(current, ev.ts)
    return Step(_with_op(state, op), outcome, op_changed=key)


def _with_op(state: EnterpriseState, op: so.SpecialOp) -> EnterpriseState:
    return replace(state, ops={**state.ops, str(op.op_id): op})


def _unknown_op(ent: EnterpriseId, ev: OpPause | OpResume | OpEnd) -> RuleOutcome:
    kind = {OpPause: "special_op_pause", OpResume: "special_op_resume", OpEnd: "special_op_end"}
    return raise_one(
        ent,
        Rule.OPERATION_UNKNOWN,
        f"op:{ev.op_id}",
        msg("alarm.operation_unknown", event=kind[type(ev)], op_id=ev.op_id),
        at=ev.ts,
        event_id=ev.event_id,
    )


@dataclass(frozen=True, slots=True)
class MaintenanceRecord:
    """A maintenance job as the replay leaves it: the last start and when it ended (or None)."""

    job: st.Maintenance
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class Replayed:
    """The result of folding events in event-time order."""

    state: EnterpriseState
    outcome: RuleOutcome
    #: Each event folded with the gas test it recorded; not the steps' states (a long history
    #: of open maintenance jobs kept once per step grew quadratically: 1.5 GB for 20,000).
    steps: list[tuple[Ordered, GasTestRow | None]]
    maintenance: dict[str, MaintenanceRecord]
    requests: list[st.ResumeRequest]
    last_key: OrderKey | None


def replay(initial: EnterpriseState, events: Iterable[Ordered], policies: Policies) -> Replayed:
    """Fold events in event-time order from `initial` (duplicates by event id are folded once)."""
    seen: set[str] = set()
    ordered: list[Ordered] = []
    for o in sorted(events, key=lambda o: o.key):
        if o.event.event_id not in seen:
            seen.add(o.event.event_id)
            ordered.append(o)
    state = initial
    outcome = NOTHING
    steps: list[tuple[Ordered, GasTestRow | None]] = []
    maintenance: dict[str, MaintenanceRecord] = {}
    requests: list[st.ResumeRequest] = []
    for o in ordered:
        ev = o.event
        # Read from the newest version of the open jobs only (O(1); see st.OpenJobs).
        was = (
            state.status.maintenance.get(ev.maint_id) if isinstance(ev, st.MaintenanceEnd) else None
        )
        s = step(state, ev, policies)
        state = s.state
        outcome += s.outcome
        steps.append((o, s.test))
        if s.new_request is not None:
            requests.append(s.new_request)
        if isinstance(ev, st.MaintenanceStart):
            job = state.status.maintenance.get(ev.maint_id)
            assert job is not None  # st.apply opens it
            maintenance[ev.maint_id] = MaintenanceRecord(job, None)
        elif was is not None:
            maintenance[was.maint_id] = MaintenanceRecord(was, ev.ts)
    last = ordered[-1].key if ordered else None
    return Replayed(state, outcome, steps, maintenance, requests, last)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """What to do with the stored alarms after a replay."""

    raise_clear: RuleOutcome
    superseded: list[AlarmKey]


def reconcile(
    outcome: RuleOutcome,
    open_keys: Collection[AlarmKey],
    seen: Collection[tuple[AlarmKey, str]] = (),
) -> Reconciliation:
    """Compare the replay's alarms with the open ones of the replayed window.

    `open_keys`: open alarms of the enterprise raised in the window; `seen`: (key, observed_at)
    of closed alarms in the window (an alarm a person already closed is not raised again for the
    same observation). The last action per key decides: raised → keep or raise; cleared → clear;
    an open alarm of an event-only rule that the replay does not raise at all → superseded.
    """
    last: dict[AlarmKey, AlarmRaise | AlarmClear] = {}
    for action in outcome.actions:
        last[action.key] = action
    closed = set(seen)
    actions: list[AlarmRaise | AlarmClear] = []
    for key, action in last.items():
        if isinstance(action, AlarmClear):
            if key in open_keys:
                actions.append(action)
        elif key not in open_keys:
            at = action.at.isoformat() if action.at is not None else ""
            if (key, at) not in closed:
                actions.append(action)
    superseded = sorted(
        (k for k in open_keys if k.rule in EVENT_RULES and k not in last),
        key=lambda k: (k.rule, k.subject),
    )
    return Reconciliation(RuleOutcome(tuple(actions)), superseded)
