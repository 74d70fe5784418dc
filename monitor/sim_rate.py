"""Play a simulated fleet on simulated time through the alarm rules and count the alarms.

No broker, no database, no sleeping: each site's messages are parsed with the ingest's schemas
and fed to the same domain steps the ingest applies (domain.replay.step, telemetry levels, the
commitment cross-check, the scheduler's periodic checks), so `measure()` tells how many alarms a
duty room would see per hour from a profile (monitor/sim_profile.py).
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from config.policy_monitoring import MonitoringPolicy
from domain import replay as rp
from domain import special_ops as so
from domain import status as st
from domain.commitment import Actuals, Commitment, cross_check, mismatch_outcome
from domain.monitoring import AlarmKey, AlarmRaise, EnterpriseId, OpId, RuleOutcome
from domain.telemetry import TagLimits, TagState, evaluate, level_outcome
from monitor.demo_seed import DEMO_TAGS
from monitor.schemas import (
    EVENT_ADAPTER,
    STATUS_EVENTS,
    GasTestEvent,
    MaintenanceStartEvent,
    ResumeEvent,
    ResumeRequestEvent,
    ShutdownEvent,
    SpecialOpEndEvent,
    SpecialOpPauseEvent,
    SpecialOpResumeEvent,
    SpecialOpStartEvent,
)
from monitor.sim_model import SiteModel, encode
from monitor.sim_profile import SimProfile

LIMITS = {t.tag: TagLimits(t.hh, t.h, t.l, t.ll, t.deadband, t.delay_s, None) for t in DEMO_TAGS}
#: How often the scheduler runs the periodic checks, and how soon duty staff decide a restart.
PERIODIC = timedelta(minutes=5)
DECIDE_AFTER = timedelta(minutes=45)


@dataclass
class RateReport:
    """Alarms newly raised (or raised again after clearing) per rule over the simulated span."""

    enterprises: int
    hours: float
    messages: int = 0
    alarms: Counter[str] = field(default_factory=Counter)

    @property
    def per_hour_per_100(self) -> float:
        """New alarms per hour per 100 enterprises."""
        return sum(self.alarms.values()) / self.hours * 100 / self.enterprises


@dataclass
class _Site:
    model: SiteModel
    state: rp.EnterpriseState
    tags: dict[str, TagState] = field(default_factory=dict)
    commitment: Commitment | None = None
    actual: Counter[tuple[str, str | None]] = field(default_factory=Counter)
    maint_started: int = 0
    startup_shutdown: int = 0
    decisions: list[tuple[datetime, str]] = field(default_factory=list)


class _Counter:
    """Open alarm keys; a raise of a key that is not open counts as a new alarm."""

    def __init__(self, report: RateReport) -> None:
        self.open: set[AlarmKey] = set()
        self.report = report

    def apply(self, outcome: RuleOutcome) -> None:
        for action in outcome.actions:
            if isinstance(action, AlarmRaise):
                if action.key not in self.open:
                    self.open.add(action.key)
                    self.report.alarms[action.key.rule] += 1
            else:
                self.open.discard(action.key)


def measure(
    profile: SimProfile,
    policy: MonitoringPolicy,
    *,
    codes: list[str],
    start: datetime,
    hours: float,
    tz: ZoneInfo,
    seed: int = 7,
) -> RateReport:
    """Play `codes` under `profile` from `start` for `hours` of simulated time."""
    rng = random.Random(seed)
    policies = rp.Policies(policy.trial, policy.special_ops)
    sites = {
        c: _Site(
            SiteModel(
                c,
                random.Random(rng.random()),
                tz,
                profile.malformed_share,
                profile=profile,
                calendar=policy.calendar,
            ),
            rp.EnterpriseState.empty(EnterpriseId(c)),
        )
        for c in codes
    }
    report = RateReport(len(codes), hours)
    counter = _Counter(report)
    end = start + timedelta(hours=hours)
    queue = [(start + timedelta(seconds=rng.uniform(0, profile.message_every_s)), c) for c in codes]
    heapq.heapify(queue)
    next_periodic = start + PERIODIC
    while queue and queue[0][0] < end:
        now, code = heapq.heappop(queue)
        while next_periodic <= now:
            for site in sites.values():
                _periodic(site, next_periodic, policies, counter)
            next_periodic += PERIODIC
        site = sites[code]
        kind, payload = site.model.next(now)
        report.messages += 1
        if isinstance(payload, dict):
            _handle(site, kind, payload, now, policy, policies, counter, tz)
        gap = rng.expovariate(1 / profile.message_every_s)
        heapq.heappush(queue, (now + timedelta(seconds=gap), code))
    return report


def _periodic(site: _Site, now: datetime, policies: rp.Policies, counter: _Counter) -> None:
    for at, request in [d for d in site.decisions if d[0] <= now]:
        site.decisions.remove((at, request))
        step = rp.step(
            site.state, rp.RestartDecision(f"dec-{request}", at, request, True), policies
        )
        site.state = step.state
        site.model.on_downlink(
            "notice",
            {"id": f"N-{request}", "kind": "restart_decision", "request_ref": request,
             "decision": "approved", "requires_ack": False},
        )  # fmt: skip
    for op in site.state.ops.values():
        counter.apply(so.periodic(op, now, policies.special_ops))
    counter.apply(st.check_trial_overrun(site.state.status, now))


def _handle(
    site: _Site,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    policy: MonitoringPolicy,
    policies: rp.Policies,
    counter: _Counter,
    tz: ZoneInfo,
) -> None:
    ent = site.state.status.enterprise_id
    if kind == "telemetry":
        for point in payload["points"]:
            tag, value = point["tag"], point["value"]
            if not isinstance(value, int | float):
                continue
            state, level = evaluate(LIMITS[tag], site.tags.get(tag, TagState()), value, now)
            site.tags[tag] = state
            if level is not None:
                out = level_outcome(ent, tag, level, value, LIMITS[tag], now, policy.levels)
                counter.apply(out)
        return
    if kind == "commitment":
        _close_day(site, now, counter)
        site.commitment = _commitment(ent, payload, tz)
        return
    if kind != "event":
        return
    try:
        body = EVENT_ADAPTER.validate_json(encode(payload))
    except ValueError:
        return  # refused at the boundary like the ingest does (no alarm)
    if body.ts > now + policy.max_future_skew:
        return  # timestamp_future: refused too
    event = _domain_event(body)
    step = rp.step(site.state, event, policies)
    site.state = step.state
    counter.apply(step.outcome)
    if isinstance(body, SpecialOpStartEvent):
        site.actual[(body.op_type.value, body.grade)] += 1
    if isinstance(body, MaintenanceStartEvent):
        site.maint_started += 1
    if isinstance(body, ShutdownEvent | ResumeEvent):
        site.startup_shutdown += 1
    if isinstance(body, ResumeRequestEvent):
        site.decisions.append((now + DECIDE_AFTER, body.event_id))


def _domain_event(body: Any) -> rp.StateEvent:
    if isinstance(body, STATUS_EVENTS):
        event: rp.StateEvent = body.to_domain()
        return event
    if isinstance(body, SpecialOpStartEvent):
        return rp.OpStartEvent(body.to_domain())
    if isinstance(body, GasTestEvent):
        return rp.OpGasTest(body.event_id, body.ts, OpId(body.op_id), body.reading(body.ts))
    if isinstance(body, SpecialOpPauseEvent):
        return rp.OpPause(body.event_id, body.ts, OpId(body.op_id))
    if isinstance(body, SpecialOpResumeEvent):
        return rp.OpResume(body.event_id, body.ts, OpId(body.op_id))
    assert isinstance(body, SpecialOpEndEvent)
    return rp.OpEnd(body.event_id, body.ts, OpId(body.op_id))


def _commitment(ent: EnterpriseId, p: dict[str, Any], tz: ZoneInfo) -> Commitment:
    planned: Counter[tuple[str, str | None]] = Counter()
    for item in p["special_ops"]:
        planned[(item["op_type"], item.get("grade"))] += item["count"]
    return Commitment(
        enterprise_id=ent,
        day=date.fromisoformat(p["date"]),
        units_total=p["units"]["total"],
        units_running=p["units"]["running"],
        units_stopped=p["units"]["stopped"],
        special_ops=dict(planned),
        maintenance=p["maintenance"],
        contractor_work=p["contractor_work"],
        trial_production=p["trial_production"],
        startup_shutdown=p["startup_shutdown"],
        risk_level=p["risk_level"],
        committed_by=p["committed_by"],
        committed_at=datetime.fromisoformat(p["committed_at"]),
    )


def _close_day(site: _Site, now: datetime, counter: _Counter) -> None:
    """The day's cross-check of the commitment against what was reported."""
    if site.commitment is not None:
        facts = Actuals(
            special_ops=dict(site.actual),
            maintenance_started=site.maint_started,
            trial_open=site.state.status.trial_id is not None,
            startup_shutdown_events=site.startup_shutdown,
        )
        counter.apply(mismatch_outcome(site.commitment, cross_check(site.commitment, facts), now))
    site.actual.clear()
    site.maint_started = site.startup_shutdown = 0
