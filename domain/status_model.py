"""The operation-status model: modes, maintenance, the status record and the reported events."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

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


#: Marks "no entry" in a change of OpenJobs (None is never a job, but this reads plainer).
_ABSENT: Final = object()


class OpenJobs:
    """The open maintenance jobs of one enterprise: maint_id → Maintenance, persistent.

    Every change returns a new OpenJobs and leaves the old one as it was, like a frozen tuple,
    but a start or an end costs O(1) instead of copying every open job (issue 11: a replay of
    20,000 starts copied 2·10⁸ references). Baker's rerooting ("shallow binding", as in
    Conchon & Filliâtre's persistent arrays): the version changed or read last holds the one
    dict; every other version holds the single change that turns the next version towards it
    into itself. Changing or reading the newest version — what a fold does: the ingest's steps, a
    replay — is O(1); reading an older one first walks the changes in between (O(distance)) and
    then holds the dict itself. The result is always the same as with copies.

    Reading moves the dict, so one lineage of versions must not be shared between threads (the
    domain runs on the process's one event loop; every load from storage starts a new lineage).
    Iteration is in (started_at, maint_id) order, as storage reads them; equality ignores order.
    """

    __slots__ = ("_dict", "_key", "_len", "_next", "_plant", "_val")

    def __init__(self, jobs: Iterable[Maintenance] = ()) -> None:
        """A new lineage holding `jobs` (a later job with the same id replaces an earlier)."""
        d: dict[str, Maintenance] = {}
        for job in jobs:
            d[job.maint_id] = job
        self._dict: dict[str, Maintenance] | None = d
        self._key = ""
        self._val: object = _ABSENT
        self._next: OpenJobs | None = None
        self._len = len(d)
        self._plant = sum(1 for j in d.values() if j.scope is Scope.PLANT)

    def _root(self) -> dict[str, Maintenance]:
        """Make this version the one holding the dict (walking the changes from the current
        holder back to this one) and return the dict."""
        if self._dict is not None:
            return self._dict
        path: list[OpenJobs] = []
        v: OpenJobs = self
        while v._dict is None:
            path.append(v)
            assert v._next is not None
            v = v._next
        d = v._dict
        for w in reversed(path):
            holder = w._next
            assert holder is not None
            key = w._key
            old = d.get(key, _ABSENT)
            if w._val is _ABSENT:
                d.pop(key, None)
            else:
                d[key] = w._val  # type: ignore[assignment]
            holder._dict, holder._key, holder._val, holder._next = None, key, old, w
            w._dict, w._key, w._val, w._next = d, "", _ABSENT, None
        return d

    def _derive(self, key: str, val: Maintenance | None) -> OpenJobs:
        d = self._root()
        old = d.get(key, _ABSENT)
        new = OpenJobs.__new__(OpenJobs)
        if val is None:
            d.pop(key, None)
        else:
            d[key] = val
        new._dict, new._key, new._val, new._next = d, "", _ABSENT, None
        self._dict, self._key, self._val, self._next = None, key, old, new
        had = old is not _ABSENT
        new._len = self._len + (val is not None) - had
        new._plant = (
            self._plant
            + (val is not None and val.scope is Scope.PLANT)
            - (had and old.scope is Scope.PLANT)  # type: ignore[attr-defined]
        )
        return new

    def started(self, job: Maintenance) -> OpenJobs:
        """The jobs with `job` open (replacing an open job of the same id)."""
        return self._derive(job.maint_id, job)

    def ended(self, maint_id: str) -> OpenJobs:
        """The jobs without `maint_id` (the same jobs when it is not open)."""
        if self.get(maint_id) is None:
            return self
        return self._derive(maint_id, None)

    def get(self, maint_id: str) -> Maintenance | None:
        """The open job with this id, or None."""
        return self._root().get(maint_id)

    @property
    def has_plant(self) -> bool:
        """Whether a whole-plant job is open (O(1): counted as jobs start and end)."""
        return self._plant > 0

    def __len__(self) -> int:
        """How many jobs are open (O(1))."""
        return self._len

    def __bool__(self) -> bool:
        """Whether any job is open."""
        return self._len > 0

    def __iter__(self) -> Iterator[Maintenance]:
        """The open jobs in (started_at, maint_id) order (a snapshot)."""
        return iter(sorted(self._root().values(), key=_job_order))

    def __eq__(self, other: object) -> bool:
        """The same open jobs (order ignored)."""
        if not isinstance(other, OpenJobs):
            return NotImplemented
        if self._len != other._len:
            return False
        mine = dict(self._root())  # a copy: both may be versions of one lineage (one dict)
        return mine == other._root()

    def __hash__(self) -> int:
        """Hash of the open jobs (so that a frozen status stays hashable)."""
        return hash(frozenset(self._root().items()))

    def __repr__(self) -> str:
        """The jobs, in order."""
        return f"OpenJobs({list(self)!r})"


def _job_order(job: Maintenance) -> tuple[datetime, str]:
    return (job.started_at, job.maint_id)


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
    maintenance: OpenJobs = field(default_factory=OpenJobs)
    last_event_at: datetime | None = None

    @property
    def maintenance_scope(self) -> Scope | None:
        """PLANT when any whole-plant maintenance is open, UNIT for partial, else None."""
        if self.maintenance.has_plant:
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
