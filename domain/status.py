"""The operation-status machine of one enterprise: shutdown, restart, maintenance, trial production.

Transitions the rules do not allow are never dropped: the state follows what the site reports
(it is the best knowledge of the plant) and an alarm says what was wrong with it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from domain.alarms import Rule
from domain.errors import RuleViolation
from domain.i18n import Message, msg
from domain.monitoring import NOTHING, EnterpriseId, RuleOutcome, clear_one, raise_one
from domain.status_model import (
    STOPPED_MODES,
    EnterpriseStatus,
    Maintenance,
    MaintenanceEnd,
    MaintenanceStart,
    Mode,
    OpenJobs,
    Resume,
    ResumeRequest,
    Scope,
    Shutdown,
    StatusEvent,
    TrialEnd,
    TrialPolicy,
    TrialStart,
)

__all__ = [
    "STOPPED_MODES",
    "EnterpriseStatus",
    "Maintenance",
    "MaintenanceEnd",
    "MaintenanceStart",
    "Mode",
    "OpenJobs",
    "Resume",
    "ResumeRequest",
    "Scope",
    "Shutdown",
    "StatusEvent",
    "Transition",
    "TrialEnd",
    "TrialPolicy",
    "TrialStart",
    "apply",
    "approve_restart",
    "check_open_limit",
    "check_trial_overrun",
    "reject_restart",
]


@dataclass(frozen=True, slots=True)
class Transition:
    """The status after an event and the alarms it raises or clears."""

    status: EnterpriseStatus
    outcome: RuleOutcome = NOTHING
    new_request: ResumeRequest | None = None


def _not_allowed(
    status: EnterpriseStatus, ev: StatusEvent, text: Message, mode: str | None = None
) -> Transition:
    """The state stays as it was and a TRANSITION_NOT_ALLOWED alarm names the event."""
    evidence: dict[str, Any] = {"event_id": ev.event_id}
    if mode is not None:
        evidence["mode"] = mode
    return Transition(
        status,
        raise_one(
            status.enterprise_id,
            Rule.TRANSITION_NOT_ALLOWED,
            f"event:{ev.event_id}",
            text,
            at=ev.ts,
            **evidence,
        ),
    )


def apply(status: EnterpriseStatus, event: StatusEvent, trial: TrialPolicy) -> Transition:
    """Apply one reported event to the status."""
    status = replace(status, last_event_at=_later(status.last_event_at, event.ts))
    match event:
        case Shutdown():
            return _shutdown(status, event)
        case ResumeRequest():
            return _resume_request(status, event)
        case Resume():
            return _resume(status, event)
        case MaintenanceStart():
            # O(1) whatever the number of open jobs (OpenJobs is persistent; issue 11: copying a
            # tuple made a replay of n starts O(n²)). A start of an open id replaces that job.
            job = Maintenance(event.maint_id, event.scope, event.units, event.ts, event.planned_end)
            return Transition(replace(status, maintenance=status.maintenance.started(job)))
        case MaintenanceEnd():
            return _maintenance_end(status, event)
        case TrialStart():
            return _trial_start(status, event, trial)
        case TrialEnd():
            return _trial_end(status, event)


def _shutdown(status: EnterpriseStatus, ev: Shutdown) -> Transition:
    units: tuple[str, ...] = ()
    scope = ev.scope
    if scope is Scope.UNIT:
        already = status.shutdown_units if status.mode in STOPPED_MODES else ()
        if status.mode in STOPPED_MODES and status.shutdown_scope is Scope.PLANT:
            scope = Scope.PLANT
        else:
            units = tuple(sorted(set(already) | set(ev.units)))
    new = replace(
        status,
        mode=Mode.SHUTDOWN,
        mode_since=ev.ts if status.mode is not Mode.SHUTDOWN else status.mode_since,
        shutdown_scope=scope,
        shutdown_units=units,
        shutdown_reason=ev.reason,
        planned_resume=ev.planned_resume,
        restart_request=None,
    )
    return Transition(new)


def _resume_request(status: EnterpriseStatus, ev: ResumeRequest) -> Transition:
    if status.mode not in (Mode.SHUTDOWN, Mode.RESTART_REQUESTED, Mode.RESTART_APPROVED):
        return _not_allowed(
            status,
            ev,
            msg("alarm.transition_not_allowed.resume_request", mode=status.mode),
            mode=status.mode.value,
        )
    new = replace(
        status, mode=Mode.RESTART_REQUESTED, mode_since=ev.ts, restart_request=ev.event_id
    )
    return Transition(new, new_request=ev)


def _resume(status: EnterpriseStatus, ev: Resume) -> Transition:
    back = Mode.TRIAL if status.trial_id else Mode.OPERATING
    running = replace(
        status,
        mode=back,
        mode_since=ev.ts,
        shutdown_scope=None,
        shutdown_units=(),
        shutdown_reason=None,
        planned_resume=None,
        restart_request=None,
    )
    if status.mode is Mode.RESTART_APPROVED:
        return Transition(running)
    if status.mode in (Mode.SHUTDOWN, Mode.RESTART_REQUESTED):
        why = "no_request" if status.mode is Mode.SHUTDOWN else "pending"
        return Transition(
            running,
            raise_one(
                status.enterprise_id,
                Rule.RESUME_WITHOUT_APPROVAL,
                "status",
                msg(f"alarm.resume_without_approval.{why}"),
                at=ev.ts,
                event_id=ev.event_id,
                mode_before=status.mode.value,
                request=status.restart_request,
            ),
        )
    return _not_allowed(
        status,
        ev,
        msg("alarm.transition_not_allowed.resume", mode=status.mode),
        mode=status.mode.value,
    )


def _maintenance_end(status: EnterpriseStatus, ev: MaintenanceEnd) -> Transition:
    if status.maintenance.get(ev.maint_id) is None:
        return Transition(
            status,
            raise_one(
                status.enterprise_id,
                Rule.MAINTENANCE_UNKNOWN,
                f"maint:{ev.maint_id}",
                msg("alarm.maintenance_unknown", maint_id=ev.maint_id),
                at=ev.ts,
                event_id=ev.event_id,
                maint_id=ev.maint_id,
            ),
        )
    return Transition(replace(status, maintenance=status.maintenance.ended(ev.maint_id)))


def _trial_start(status: EnterpriseStatus, ev: TrialStart, policy: TrialPolicy) -> Transition:
    new = replace(
        status,
        mode=Mode.TRIAL if status.mode not in STOPPED_MODES else status.mode,
        mode_since=ev.ts,
        trial_id=ev.trial_id,
        trial_started_at=ev.ts,
        trial_planned_end=ev.planned_end,
    )
    subject = f"trial:{ev.trial_id}"
    if ev.planned_end is None:
        problem = msg("alarm.trial_period_invalid.no_end")
    else:
        days = (ev.planned_end - ev.ts) / timedelta(days=1)
        if policy.min_days <= days <= policy.max_days:
            return Transition(new)
        problem = msg(
            "alarm.trial_period_invalid.days",
            days=round(days, 1),
            min_days=policy.min_days,
            max_days=policy.max_days,
        )
    return Transition(
        new,
        raise_one(
            status.enterprise_id,
            Rule.TRIAL_PERIOD_INVALID,
            subject,
            problem,
            at=ev.ts,
            trial_id=ev.trial_id,
            planned_end=ev.planned_end.isoformat() if ev.planned_end else None,
        ),
    )


def _trial_end(status: EnterpriseStatus, ev: TrialEnd) -> Transition:
    if status.trial_id is None:
        return _not_allowed(
            status, ev, msg("alarm.transition_not_allowed.trial_end", trial_id=ev.trial_id)
        )
    outcome = clear_one(status.enterprise_id, Rule.TRIAL_OVERRUN, f"trial:{status.trial_id}")
    if status.trial_planned_end is not None and ev.ts > status.trial_planned_end:
        outcome = raise_one(
            status.enterprise_id,
            Rule.TRIAL_OVERRUN,
            f"trial:{status.trial_id}",
            msg("alarm.trial_overrun.ended", planned_end=status.trial_planned_end),
            at=ev.ts,
            planned_end=status.trial_planned_end.isoformat(),
            ended_at=ev.ts.isoformat(),
        )
        outcome = outcome + clear_one(
            status.enterprise_id, Rule.TRIAL_OVERRUN, f"trial:{status.trial_id}"
        )
    new = replace(
        status,
        mode=Mode.OPERATING if status.mode is Mode.TRIAL else status.mode,
        mode_since=ev.ts if status.mode is Mode.TRIAL else status.mode_since,
        trial_id=None,
        trial_started_at=None,
        trial_planned_end=None,
    )
    return Transition(new, outcome)


def check_trial_overrun(status: EnterpriseStatus, now: datetime) -> RuleOutcome:
    """Trial production still open past its planned end (the scheduler runs this)."""
    if status.trial_id is None or status.trial_planned_end is None:
        return NOTHING
    if now <= status.trial_planned_end:
        return NOTHING
    overdue = (now - status.trial_planned_end) / timedelta(days=1)
    return raise_one(
        status.enterprise_id,
        Rule.TRIAL_OVERRUN,
        f"trial:{status.trial_id}",
        msg("alarm.trial_overrun.open", days=round(overdue, 1)),
        at=now,
        planned_end=status.trial_planned_end.isoformat(),
    )


def approve_restart(status: EnterpriseStatus, request: str, at: datetime) -> EnterpriseStatus:
    """Duty staff approve the pending restart request (复产复验 passed)."""
    _require_pending(status, request)
    return replace(status, mode=Mode.RESTART_APPROVED, mode_since=at)


def reject_restart(status: EnterpriseStatus, request: str, at: datetime) -> EnterpriseStatus:
    """Duty staff reject the pending request: the enterprise stays shut down."""
    _require_pending(status, request)
    return replace(status, mode=Mode.SHUTDOWN, mode_since=at, restart_request=None)


def _require_pending(status: EnterpriseStatus, request: str) -> None:
    if status.mode is not Mode.RESTART_REQUESTED or status.restart_request != request:
        raise RuleViolation(
            msg(
                "restart.not_pending_request",
                request=request,
                mode=status.mode.value,
                restart_request=status.restart_request,
            ),
            details={"mode": status.mode.value, "pending": status.restart_request},
        )


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


@dataclass(frozen=True, slots=True)
class OpenLimitCheck:
    """The maintenance starts an enterprise may not report now, and the alarm for duty staff."""

    refused: list[MaintenanceStart] = field(default_factory=list)
    outcome: RuleOutcome = NOTHING


def check_open_limit(
    ent: EnterpriseId,
    open_ids: Collection[str],
    events: Iterable[MaintenanceStart | MaintenanceEnd],
    limit: int,
) -> OpenLimitCheck:
    """Which starts would leave more than `limit` maintenance jobs open.

    `open_ids`: the enterprise's open jobs as stored; `events`: its newly arrived starts and ends
    in event-time order. The batch is judged by the jobs it leaves open (so the verdict does not
    depend on how arrivals were cut into batches): every end is allowed, a start of a job that
    stays open only as a correction of a stored open job is allowed, and a job the batch newly
    leaves open beyond `limit` has its starts (after its last end in the batch) refused, the
    latest jobs in event-time order first. One `maintenance_open_limit` alarm names the last
    refused job (the bureau's bound, config/monitoring.yaml; issue 11).
    """
    events = list(events)
    stored = set(open_ids)
    last_end = {ev.maint_id: i for i, ev in enumerate(events) if isinstance(ev, MaintenanceEnd)}
    left_open = set(stored)
    for ev in events:
        if isinstance(ev, MaintenanceEnd):
            left_open.discard(ev.maint_id)
        else:
            left_open.add(ev.maint_id)
    # Jobs the batch newly leaves open, in the order of their first start that counts.
    new_jobs: dict[str, list[MaintenanceStart]] = {}
    for i, ev in enumerate(events):
        if isinstance(ev, MaintenanceEnd) or ev.maint_id not in left_open:
            continue
        if ev.maint_id in stored and ev.maint_id not in last_end:
            continue  # a correction of a job open before the batch
        if i > last_end.get(ev.maint_id, -1):
            new_jobs.setdefault(ev.maint_id, []).append(ev)
    excess = min(len(left_open) - limit, len(new_jobs))
    refused_jobs = list(new_jobs)[len(new_jobs) - excess :] if excess > 0 else []
    chosen = {id(ev) for job in refused_jobs for ev in new_jobs[job]}
    refused = [ev for ev in events if id(ev) in chosen and isinstance(ev, MaintenanceStart)]
    open_now = left_open.difference(refused_jobs)
    if not refused:
        return OpenLimitCheck()
    last = refused[-1]
    return OpenLimitCheck(
        refused,
        raise_one(
            ent,
            Rule.MAINTENANCE_OPEN_LIMIT,
            "maintenance",
            msg(
                "alarm.maintenance_open_limit",
                limit=limit,
                refused=len(refused),
                maint_id=last.maint_id,
            ),
            at=last.ts,
            event_id=last.event_id,
            maint_id=last.maint_id,
            open=len(open_now),
            limit=limit,
            refused=len(refused),
        ),
    )
