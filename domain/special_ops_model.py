"""The special-operation model: the eight GB 30871-2022 types and grades, the policy shape,
gas readings, the tracked operation and the reported start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
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
class GasLimits:
    """Acceptance limits of a gas analysis."""

    o2_min_pct: float
    o2_max_pct: float
    lel_pct_max: float
    vol_pct_max_lel_ge_4: float
    vol_pct_max_lel_lt_4: float
    toxic_ppm_max: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class SpecialOpsPolicy:
    """All special-operation rules."""

    types: Mapping[OpType, TypePolicy]
    gas: GasLimits


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
    last_gas_test_at: datetime | None = None
    needs_retest: bool = False
    interruptions: int = 0

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
