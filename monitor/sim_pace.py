"""A simulated site's calendar: the day's planned operations, timed steps and rare faults.

Everything is driven by the `now` the caller passes, so a test can play days of simulated time
in seconds (tests/unit/test_sim_rate.py) and the simulator plays it in real time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import monitor.sim_model as sm

if TYPE_CHECKING:
    from monitor.sim_model import Payload, SiteModel

#: Work starts between these local times and lasts 1–4 h, so hot work stays out of the night.
WORK_FROM, WORK_LAST_START = time(8, 30), time(13, 30)
GAS_FAULTS = ("no_gas_test", "stale_gas_test", "bad_gas")
OTHER_FAULTS = ("no_guardian", "long_permit")
#: Types whose permit has a maximum validity that a 200 h permit exceeds.
LONG_PERMIT_TYPES = ("hot_work", "confined_space", "temp_power")


@dataclass
class _Planned:
    at: datetime
    op_type: str
    grade: str | None
    fault: str | None


@dataclass
class _Running:
    end_at: datetime
    next_test_at: datetime | None
    pause_at: datetime | None = None
    resume_at: datetime | None = None
    retest: bool = False


@dataclass
class PacedPlan:
    """The timers of one site under a paced profile."""

    model: SiteModel
    start: datetime
    plan: list[_Planned] = field(default_factory=list)
    running: dict[str, _Running] = field(default_factory=dict)
    maint_ends: dict[str, datetime] = field(default_factory=dict)
    maint_plan: list[datetime] = field(default_factory=list)
    next_excursion: datetime | None = None
    next_shutdown: datetime | None = None
    next_trial: datetime | None = None
    request_at: datetime | None = None
    unapproved_at: datetime | None = None
    trial_end: datetime | None = None

    def __post_init__(self) -> None:
        p, now = self.model.profile, self.start
        self.next_excursion = now + self._after(p.excursions_per_day)
        self.next_shutdown = now + self._after(p.shutdowns_per_day)
        self.next_trial = now + self._after(p.trials_per_day)

    @property
    def rng(self) -> random.Random:
        """The site's random source."""
        return self.model.rng

    def _after(self, per_day: float) -> timedelta:
        if per_day <= 0:
            return timedelta(days=36500)
        return timedelta(days=self.rng.expovariate(per_day))

    def next(self, now: datetime) -> tuple[str, Payload]:
        """The message the site sends at `now`."""
        m = self.model
        local = now.astimezone(m.tz)
        day = local.date().isoformat()
        if m.committed_day != day:
            m.committed_day = day
            ops = self._plan_day(local.date())
            return "commitment", m.commitment(now, day, ops, len(self.maint_plan))
        if m.pending_acks:
            ref = m.pending_acks.pop(0)
            return "ack", {"ref": ref, "ts": now.isoformat(), "by": self.rng.choice(sm.PEOPLE)}
        if self.rng.random() < m.malformed_share:
            return m.malformed(now)
        action = self._ops(now) or self._status(now)
        if action is not None:
            return action
        excursion = self.next_excursion is not None and now >= self.next_excursion
        if excursion:
            self.next_excursion = now + self._after(m.profile.excursions_per_day)
        return "telemetry", m.telemetry(now, excursion=excursion)

    def _plan_day(self, day: date) -> list[dict[str, Any]]:
        """Draw today's operations; return them as the commitment lists them."""
        p = self.model.profile
        # Statutory holidays and weekends are rest days; a 调休 Saturday is a working day
        # (config/holidays.yaml, the 国务院办公厅 notice of the year).
        rest = self.model.calendar.is_rest_day(day)
        n = _poisson(self.rng, p.ops_per_rest_day if rest else p.ops_per_working_day)
        self.plan = []
        for _ in range(n):
            op_type = self.rng.choice(tuple(sm.PERMIT_HOURS))
            grades = sm.GRADES.get(op_type)
            # On rest days and holidays hot work is managed a grade higher (升级管理): plan
            # only 二级 then.
            grade = (
                None
                if grades is None
                else self.rng.choice(grades[1:] if op_type == "hot_work" else grades)
            )
            if rest and op_type == "hot_work":
                grade = "2"
            start = self._work_time(day)
            fault = None
            if self.rng.random() < p.op_fault:
                kinds = OTHER_FAULTS + (GAS_FAULTS if op_type in sm.GAS_TYPES else ())
                fault = self.rng.choice(kinds)
                if fault == "long_permit" and op_type not in LONG_PERMIT_TYPES:
                    fault = "no_guardian"
            self.plan.append(_Planned(start, op_type, grade, fault))
        committed = _counts(self.plan)
        n_maint = _poisson(self.rng, p.maintenance_per_day)
        self.maint_plan = sorted(self._work_time(day) for _ in range(n_maint))
        if self.rng.random() < p.commitment_off:
            # An operation nobody committed to in the morning (a data-quality alarm).
            self.plan.append(_Planned(self._work_time(day), "lifting", "1", None))
        self.plan.sort(key=lambda x: x.at)
        return committed

    def _work_time(self, day: date) -> datetime:
        first = datetime.combine(day, WORK_FROM, self.model.tz)
        last = datetime.combine(day, WORK_LAST_START, self.model.tz)
        return first + (last - first) * self.rng.random()

    def _ops(self, now: datetime) -> tuple[str, Payload] | None:
        m = self.model
        for op_id in sorted(self.running):
            run, op = self.running[op_id], m.ops[op_id]
            if op.paused and run.resume_at is not None and now >= run.resume_at:
                if run.retest:
                    run.retest = False
                    return m.event(now, "gas_test", op_id=op_id, **m.gas(bad=False))
                op.paused, run.resume_at = False, None
                if run.next_test_at is not None:
                    run.next_test_at = now + timedelta(minutes=30)
                return m.event(now, "special_op_resume", op_id=op_id)
            if op.paused:
                continue
            if now >= run.end_at:
                del self.running[op_id], m.ops[op_id]
                return m.event(now, "special_op_end", op_id=op_id)
            if run.pause_at is not None and now >= run.pause_at:
                op.paused, run.pause_at = True, None
                gap = self.rng.uniform(5, 120)
                run.resume_at = now + timedelta(minutes=gap)
                # A long interruption gets a new analysis before work resumes.
                run.retest = op.op_type in sm.GAS_TYPES and gap > 25
                run.end_at += timedelta(minutes=gap)
                return m.event(now, "special_op_pause", op_id=op_id)
            if run.next_test_at is not None and now >= run.next_test_at:
                run.next_test_at = now + timedelta(minutes=self.rng.uniform(25, 55))
                return m.event(now, "gas_test", op_id=op_id, **m.gas(bad=False))
        if self.plan and now >= self.plan[0].at:
            return self._start(now, self.plan.pop(0))
        return None

    def _start(self, now: datetime, planned: _Planned) -> tuple[str, Payload]:
        m, fault = self.model, planned.fault
        hours = 200.0 if fault == "long_permit" else sm.PERMIT_HOURS[planned.op_type]
        busy = {g for o in m.ops.values() for g in ([o.guardian] if o.guardian else [])}
        guardian = (
            ""
            if fault == "no_guardian"
            else self.rng.choice([p for p in sm.PEOPLE if p not in busy] or list(sm.PEOPLE))
        )
        op_id, fields = m.op_fields(now, planned.op_type, planned.grade, hours, guardian)
        m.ops[op_id].guardian = guardian
        gas = planned.op_type in sm.GAS_TYPES
        if gas and fault != "no_gas_test":
            minutes = 45 if fault == "stale_gas_test" else self.rng.uniform(3, 20)
            fields["gas_test"] = {
                "ts": (now - timedelta(minutes=minutes)).isoformat(),
                **m.gas(bad=fault == "bad_gas"),
            }
        duration = timedelta(hours=self.rng.uniform(1, 4))
        run = _Running(now + duration, now + timedelta(minutes=30) if gas else None)
        if self.rng.random() < m.profile.op_pause:
            run.pause_at = now + duration * self.rng.uniform(0.2, 0.8)
        self.running[op_id] = run
        return m.event(now, "special_op_start", **fields)

    def _status(self, now: datetime) -> tuple[str, Payload] | None:
        m, p = self.model, self.model.profile
        for maint_id, end in sorted(self.maint_ends.items()):
            if now >= end:
                del self.maint_ends[maint_id]
                m.maintenance.remove(maint_id)
                return m.event(now, "maintenance_end", maint_id=maint_id)
        if self.maint_plan and now >= self.maint_plan[0]:
            self.maint_plan.pop(0)
            kind, payload = m.maintenance_step_start(now)
            assert isinstance(payload, dict)
            self.maint_ends[payload["maint_id"]] = now + timedelta(hours=self.rng.uniform(2, 8))
            return kind, payload
        if m.mode == "operating" and self.next_shutdown is not None and now >= self.next_shutdown:
            self.next_shutdown = now + self._after(p.shutdowns_per_day)
            self.request_at = now + timedelta(hours=self.rng.uniform(2, 12))
            return m.shutdown_step(now)
        if m.mode == "shutdown" and self.request_at is not None and now >= self.request_at:
            self.request_at = None
            if self.rng.random() < p.unapproved_restart:
                self.unapproved_at = now + timedelta(minutes=20)
            return m.shutdown_step(now)
        if m.mode == "requested":
            if m.decision in ("approved", "rejected"):
                self.unapproved_at = None
                if m.decision == "rejected":
                    self.request_at = now + timedelta(hours=4)
                return m.shutdown_step(now)  # resume with approval, or back to shut down
            if self.unapproved_at is not None and now >= self.unapproved_at:
                self.unapproved_at = None
                m.mode, ref, m.request, m.decision = "operating", m.request, None, None
                return m.event(now, "resume", request_ref=ref)
        return self._trial(now)

    def _trial(self, now: datetime) -> tuple[str, Payload] | None:
        m, p = self.model, self.model.profile
        if m.trial is None and self.next_trial is not None and now >= self.next_trial:
            self.next_trial = now + self._after(p.trials_per_day)
            days = 400 if self.rng.random() < p.trial_invalid else self.rng.choice((90, 180, 365))
            m.trial = m.new_id("TR")
            self.trial_end = now + timedelta(days=days - 1) if days <= 365 else None
            return m.event(
                now,
                "trial_start",
                trial_id=m.trial,
                planned_end=(now + timedelta(days=days)).isoformat(),
            )
        if m.trial is not None and self.trial_end is not None and now >= self.trial_end:
            trial, m.trial, self.trial_end = m.trial, None, None
            return m.event(now, "trial_end", trial_id=trial)
        return None


def _counts(plan: list[_Planned]) -> list[dict[str, Any]]:
    counts: dict[tuple[str, str | None], int] = {}
    for p in plan:
        counts[(p.op_type, p.grade)] = counts.get((p.op_type, p.grade), 0) + 1
    return [
        {"op_type": t, "count": n, **({"grade": g} if g is not None else {})}
        for (t, g), n in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    ]


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson-distributed count (Knuth; small means only)."""
    limit, k, prod = pow(2.718281828459045, -mean), 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k
