"""The operation-status model: modes, maintenance, the status record and the reported events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.monitoring import EnterpriseId


class Mode(StrEnum):
    """The enterprise's operating mode (maintenance is tracked beside it)."""

    OPERATING = "operating"
    SHUTDOWN = "shutdown"
    RESTART_REQUESTED = "restart_requested"
    RESTART_APPROVED = "restart_approved"
    TRIAL = "trial_production"


class Scope(StrEnum):
    """Whole plant or some units."""

    PLANT = "plant"
    UNIT = "unit"


STOPPED_MODES = frozenset({Mode.SHUTDOWN, Mode.RESTART_REQUESTED, Mode.RESTART_APPROVED})


@dataclass(frozen=True, slots=True)
class Maintenance:
    """One open maintenance job (检维修): whole-plant overhaul or partial."""

    maint_id: str
    scope: Scope
    units: tuple[str, ...]
    started_at: datetime
    planned_end: datetime | None


@dataclass(frozen=True, slots=True)
class TrialPolicy:
    """Allowed length of trial production (试生产)."""

    min_days: int
    max_days: int


@dataclass(frozen=True, slots=True)
class EnterpriseStatus:
    """The current status of one enterprise."""

    enterprise_id: EnterpriseId
    mode: Mode = Mode.OPERATING
    mode_since: datetime | None = None
    shutdown_scope: Scope | None = None
    shutdown_units: tuple[str, ...] = ()
    shutdown_reason: str | None = None
    planned_resume: datetime | None = None
    restart_request: str | None = None
    trial_id: str | None = None
    trial_started_at: datetime | None = None
    trial_planned_end: datetime | None = None
    maintenance: tuple[Maintenance, ...] = ()
    last_event_at: datetime | None = None

    @property
    def maintenance_scope(self) -> Scope | None:
        """PLANT when any whole-plant maintenance is open, UNIT for partial, else None."""
        if any(m.scope is Scope.PLANT for m in self.maintenance):
            return Scope.PLANT
        return Scope.UNIT if self.maintenance else None

    @property
    def headline(self) -> str:
        """One word for dashboards: maintenance_whole wins over the mode."""
        if self.maintenance_scope is Scope.PLANT:
            return "maintenance_whole"
        return self.mode.value


@dataclass(frozen=True, slots=True)
class Shutdown:
    """停产 of the whole plant or some units."""

    event_id: str
    ts: datetime
    scope: Scope
    units: tuple[str, ...]
    reason: str
    planned_resume: datetime | None


@dataclass(frozen=True, slots=True)
class ResumeRequest:
    """复产申请 with the site's self-check."""

    event_id: str
    ts: datetime
    planned_at: datetime
    failed_items: int


@dataclass(frozen=True, slots=True)
class Resume:
    """复产 (only after an approved request)."""

    event_id: str
    ts: datetime
    request_ref: str | None


@dataclass(frozen=True, slots=True)
class MaintenanceStart:
    """检维修 started."""

    event_id: str
    ts: datetime
    maint_id: str
    scope: Scope
    units: tuple[str, ...]
    planned_end: datetime | None


@dataclass(frozen=True, slots=True)
class MaintenanceEnd:
    """检维修 finished."""

    event_id: str
    ts: datetime
    maint_id: str


@dataclass(frozen=True, slots=True)
class TrialStart:
    """试生产 started."""

    event_id: str
    ts: datetime
    trial_id: str
    planned_end: datetime | None


@dataclass(frozen=True, slots=True)
class TrialEnd:
    """试生产 finished."""

    event_id: str
    ts: datetime
    trial_id: str


StatusEvent = (
    Shutdown | ResumeRequest | Resume | MaintenanceStart | MaintenanceEnd | TrialStart | TrialEnd
)
