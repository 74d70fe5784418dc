"""The special-operation model: the eight GB 30871-2022 types and grades, the policy shape,
gas readings, the tracked operation and the reported start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from domain.monitoring import EnterpriseId, OpId


class OpType(StrEnum):
    """The eight special-operation types of GB 30871-2022."""

    HOT_WORK = "hot_work"
    CONFINED_SPACE = "confined_space"
    BLIND_PLATE = "blind_plate"
    WORK_AT_HEIGHT = "work_at_height"
    LIFTING = "lifting"
    TEMP_POWER = "temp_power"
    EXCAVATION = "excavation"
    ROAD_BREAK = "road_break"


class OpState(StrEnum):
    """An operation is active, paused (interrupted) or ended."""

    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


#: Grade values per type (others have no grades); the first is the most dangerous.
GRADES: dict[OpType, tuple[str, ...]] = {
    OpType.HOT_WORK: ("special", "1", "2"),
    OpType.WORK_AT_HEIGHT: ("IV", "III", "II", "I"),
    OpType.LIFTING: ("1", "2", "3"),
}
ANY_GRADE = "*"


def stricter_grade(op_type: OpType, grade: str | None) -> str | None:
    """The grade one level more dangerous (the most dangerous stays as it is)."""
    order = GRADES.get(op_type)
    if not order or grade not in order:
        return grade
    return order[max(order.index(grade) - 1, 0)]


@dataclass(frozen=True, slots=True)
class TypePolicy:
    """Rules for one operation type; mappings are keyed by grade or ANY_GRADE."""

    op_type: OpType
    permit_max: Mapping[str, timedelta | None]
    gas_test_before: timedelta | None
    retest_after_pause: Mapping[str, timedelta] | None
    max_test_age: Mapping[str, timedelta | None]

    def for_grade(
        self, table: Mapping[str, timedelta | None] | None, grade: str | None
    ) -> timedelta | None:
        """The value for `grade` (or the catch-all) from one of the mappings."""
        if not table:
            return None
        if grade is not None and grade in table:
            return table[grade]
        return table.get(ANY_GRADE)


@dataclass(frozen=True, slots=True)
class Combustible:
    """A combustible gas with its lower explosive limit (% vol)."""

    key: str
    name: str
    lel_vol_pct: float


@dataclass(frozen=True, slots=True)
class ToxicLimit:
    """The acceptance limit of one toxic gas, already converted to ppm."""

    key: str
    name: str
    limit_ppm: float
    basis: str


@dataclass(frozen=True, slots=True)
class GasLimits:
    """Acceptance limits of a gas analysis; gas tables keyed by upper-case name or alias."""

    o2_min_pct: float
    o2_max_pct: float
    o2_max_enriched_pct: float
    lel_split_vol_pct: float
    vol_pct_max_lel_ge: float
    vol_pct_max_lel_lt: float
    combustibles: Mapping[str, Combustible]
    toxics: Mapping[str, ToxicLimit]


@dataclass(frozen=True, slots=True)
class UpgradeCalendar:
    """升级管理: the days and hours when hot work is managed one grade higher."""

    holidays: frozenset[date]
    workdays: frozenset[date]
    rest_weekdays: frozenset[int]
    night_start: time
    night_end: time
    tz: tzinfo


@dataclass(frozen=True, slots=True)
class SpecialOpsPolicy:
    """All special-operation rules."""

    types: Mapping[OpType, TypePolicy]
    gas: GasLimits
    upgrade: UpgradeCalendar
    daily_test_types: frozenset[OpType] = frozenset()
    video_grades: Mapping[OpType, frozenset[str]] = field(default_factory=dict)
    guardian_cert_required: bool = True


@dataclass(frozen=True, slots=True)
class GasReading:
    """One gas analysis (气体分析)."""

    ts: datetime
    o2_pct: float | None = None
    lel_pct: float | None = None
    toxic_ppm: Mapping[str, float] | None = None
    combustible_vol_pct: float | None = None
    lel_vol_pct: float | None = None
    analyst: str | None = None
    gas: str | None = None


@dataclass(frozen=True, slots=True)
class SpecialOp:
    """One special operation as tracked."""

    enterprise_id: EnterpriseId
    op_id: OpId
    op_type: OpType
    grade: str | None
    permit_no: str
    valid_from: datetime
    valid_to: datetime
    location: str
    guardian: str | None
    state: OpState
    started_at: datetime
    paused_at: datetime | None = None
    ended_at: datetime | None = None
    #: Latest acceptable analysis (a reading out of limits does not count as a gas test).
    last_gas_test_at: datetime | None = None
    needs_retest: bool = False
    interruptions: int = 0
    #: Latest reading of any result (continuous monitoring looks for gaps in the data).
    last_reading_at: datetime | None = None
    #: The grade as reported when 升级管理 raised it (grade then holds the managed grade).
    reported_grade: str | None = None
    oxygen_enriched: bool = False
    guardian_cert: str | None = None
    camera: str | None = None
    serves_op: OpId | None = None

    @property
    def subject(self) -> str:
        """Alarm subject of this operation."""
        return f"op:{self.op_id}"


@dataclass(frozen=True, slots=True)
class OpStart:
    """special_op_start as reported."""

    event_id: str
    ts: datetime
    op_id: OpId
    op_type: OpType
    grade: str | None
    permit_no: str
    valid_from: datetime
    valid_to: datetime
    location: str
    guardian: str | None
    gas_test: GasReading | None
    oxygen_enriched: bool = False
    guardian_cert: str | None = None
    camera: str | None = None
    serves_op: OpId | None = None
