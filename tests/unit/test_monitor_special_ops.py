"""Special operations against the shipped GB 30871-2022 policy file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from config.policy_monitoring import load_monitoring_policy
from config.settings import DEFAULT_POLICY_DIR
from domain import special_ops as so
from domain.monitoring import EnterpriseId, OpId
from domain.special_ops import GasReading, OpStart, OpState, OpType

POLICY = load_monitoring_policy(DEFAULT_POLICY_DIR).special_ops
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ENT = EnterpriseId("91330102100000000X")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def good(minutes: float) -> GasReading:
    return GasReading(at(minutes), o2_pct=20.9, lel_pct=0.0)


def start(
    op_type: OpType = OpType.HOT_WORK,
    grade: str | None = "1",
    *,
    hours: float = 4,
    test: GasReading | None = None,
    guardian: str | None = "李四",
    ts: float = 0,
    valid_from: float = -5,
) -> OpStart:
    return OpStart(
        "e1",
        at(ts),
        OpId("op-1"),
        op_type,
        grade,
        "P-1",
        at(valid_from),
        at(valid_from) + timedelta(hours=hours),
        "罐区",
        guardian,
        test,
    )


def rules(outcome) -> list[str]:
    return sorted(r.key.rule for r in outcome.raises)


def test_clean_hot_work_start() -> None:
    op, out = so.start(start(test=good(-10)), ENT, None, POLICY)
    assert op.state is OpState.ACTIVE
    assert rules(out) == []


@pytest.mark.parametrize(
    ("op_type", "grade", "hours", "too_long"),
    [
        (OpType.HOT_WORK, "special", 8, False),
        (OpType.HOT_WORK, "special", 9, True),
        (OpType.HOT_WORK, "1", 8.5, True),
        (OpType.HOT_WORK, "2", 72, False),
        (OpType.HOT_WORK, "2", 73, True),
        (OpType.CONFINED_SPACE, None, 24, False),
        (OpType.CONFINED_SPACE, None, 25, True),
        (OpType.WORK_AT_HEIGHT, "II", 7 * 24, False),
        (OpType.WORK_AT_HEIGHT, "II", 7 * 24 + 1, True),
        (OpType.TEMP_POWER, None, 30 * 24 + 1, True),
        (OpType.LIFTING, "1", 500, False),
        (OpType.BLIND_PLATE, None, 500, False),
        (OpType.EXCAVATION, None, 500, False),
        (OpType.ROAD_BREAK, None, 500, False),
    ],
)
def test_permit_validity_limits(
    op_type: OpType, grade: str | None, hours: float, too_long: bool
) -> None:
    _, out = so.start(start(op_type, grade, hours=hours, test=good(-1)), ENT, None, POLICY)
    assert ("permit_too_long" in rules(out)) is too_long


@pytest.mark.parametrize("op_type", [OpType.HOT_WORK, OpType.CONFINED_SPACE])
def test_gas_test_required_within_30_minutes_before(op_type: OpType) -> None:
    grade = "1" if op_type is OpType.HOT_WORK else None
    assert "gas_test_missing" in rules(so.start(start(op_type, grade), ENT, None, POLICY)[1])
    late = so.start(start(op_type, grade), ENT, good(-31), POLICY)[1]
    assert "gas_test_missing" in rules(late)
    on_time = so.start(start(op_type, grade), ENT, good(-29), POLICY)[1]
    assert "gas_test_missing" not in rules(on_time)


def test_no_gas_test_needed_for_lifting() -> None:
    assert rules(so.start(start(OpType.LIFTING, "2"), ENT, None, POLICY)[1]) == []


def test_missing_guardian_grade_and_window() -> None:
    out = so.start(start(OpType.HOT_WORK, None, guardian=" ", test=good(-1)), ENT, None, POLICY)[1]
    assert rules(out) == ["grade_missing", "guardian_missing"]
    _, out = so.start(start(valid_from=10, test=good(-1)), ENT, None, POLICY)
    assert rules(out) == ["permit_not_yet_valid"]
    _, out = so.start(start(hours=1, valid_from=-120, test=good(-1)), ENT, None, POLICY)
    assert rules(out) == ["permit_expired"]


def test_grade_missing_assumes_the_strictest() -> None:
    op, _ = so.start(start(OpType.HOT_WORK, None, hours=10, test=good(-1)), ENT, None, POLICY)
    assert op.grade == "special"


@pytest.mark.parametrize(
    ("reading", "bad"),
    [
        (GasReading(T0, o2_pct=19.4), True),
        (GasReading(T0, o2_pct=19.5), False),
        (GasReading(T0, o2_pct=23.6), True),
        (GasReading(T0, lel_pct=10.0), False),
        (GasReading(T0, lel_pct=10.1), True),
        (GasReading(T0, combustible_vol_pct=0.5, lel_vol_pct=5.0), False),
        (GasReading(T0, combustible_vol_pct=0.3, lel_vol_pct=2.1), True),
        (GasReading(T0, toxic_ppm={"h2s": 8.0}), True),
        (GasReading(T0, toxic_ppm={"H2S": 5.0, "unknown": 9999.0}), False),
    ],
)
def test_gas_limits(reading: GasReading, bad: bool) -> None:
    assert bool(so.gas_problems(reading, POLICY.gas)) is bad


def test_out_of_limits_then_good_reading_clears() -> None:
    op, _ = so.start(start(test=good(-1)), ENT, None, POLICY)
    op, out = so.gas_test(op, GasReading(at(5), o2_pct=18.0), POLICY)
    assert rules(out) == ["gas_out_of_limits"]
    op, out = so.gas_test(op, good(6), POLICY)
    assert "gas_out_of_limits" in [c.key.rule for c in out.clears]


@pytest.mark.parametrize(
    ("grade", "gap", "alarm"),
    [("special", 31, True), ("1", 30, False), ("1", 31, True), ("2", 59, False), ("2", 61, True)],
)
def test_retest_after_interruption(grade: str, gap: float, alarm: bool) -> None:
    op, _ = so.start(start(grade=grade, test=good(-1)), ENT, None, POLICY)
    op = so.pause(op, at(10))
    op, out = so.resume(op, at(10 + gap), POLICY)
    assert ("retest_missing" in rules(out)) is alarm
    assert op.needs_retest is alarm
    if alarm:
        op, out = so.gas_test(op, good(10 + gap + 1), POLICY)
        assert not op.needs_retest
        assert "retest_missing" in [c.key.rule for c in out.clears]


def test_retest_made_during_the_pause_is_enough() -> None:
    op, _ = so.start(start(grade="1", test=good(-1)), ENT, None, POLICY)
    op = so.pause(op, at(10))
    op, _ = so.gas_test(op, good(80), POLICY)
    op, out = so.resume(op, at(90), POLICY)
    assert rules(out) == []


def test_continuous_monitoring_for_special_hot_work_and_two_hourly_for_confined_space() -> None:
    op, _ = so.start(start(grade="special", test=good(-1)), ENT, None, POLICY)
    assert rules(so.periodic(op, at(9), POLICY)) == []
    assert rules(so.periodic(op, at(12), POLICY)) == ["gas_test_stale"]
    cs, _ = so.start(start(OpType.CONFINED_SPACE, None, test=good(-1)), ENT, None, POLICY)
    assert rules(so.periodic(cs, at(110), POLICY)) == []
    assert rules(so.periodic(cs, at(125), POLICY)) == ["gas_test_stale"]
    assert rules(so.periodic(so.pause(cs, at(100)), at(125), POLICY)) == []


def test_permit_expiry_while_open_and_at_the_end() -> None:
    op, _ = so.start(start(hours=1, test=good(-1)), ENT, None, POLICY)
    assert rules(so.periodic(op, at(50), POLICY)) == []
    assert rules(so.periodic(op, at(60), POLICY)) == ["permit_expired"]
    ended, out = so.end(op, at(70))
    assert ended.state is OpState.ENDED
    assert rules(out) == ["permit_expired"]
    assert rules(so.periodic(ended, at(80), POLICY)) == []
