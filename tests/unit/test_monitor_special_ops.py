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
#: Tuesday 2026-03-03 10:00 in Asia/Shanghai: a working day, daytime (no 升级管理).
T0 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
ENT = EnterpriseId("91330102100000000X")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def good(minutes: float) -> GasReading:
    return GasReading(at(minutes), o2_pct=20.9, lel_pct=0.0, gas="CH4")


def start(
    op_type: OpType = OpType.HOT_WORK,
    grade: str | None = "1",
    *,
    hours: float = 4,
    test: GasReading | None = None,
    guardian: str | None = "李四",
    ts: float = 0,
    valid_from: float = -5,
    cert: str | None = "JH-2026-001",
    camera: str | None = None,
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
        guardian_cert=cert,
        camera=camera,
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
    out = so.start(
        start(OpType.HOT_WORK, None, guardian=" ", test=good(-1), camera="C1"), ENT, None, POLICY
    )[1]
    assert rules(out) == ["grade_missing", "guardian_missing"]
    out = so.start(start(cert=None, test=good(-1)), ENT, None, POLICY)[1]
    assert rules(out) == ["guardian_missing"]
    _, out = so.start(start(valid_from=10, test=good(-1)), ENT, None, POLICY)
    assert rules(out) == ["permit_not_yet_valid"]
    _, out = so.start(start(hours=1, valid_from=-120, test=good(-1)), ENT, None, POLICY)
    assert rules(out) == ["permit_expired"]


def test_grade_missing_assumes_the_strictest() -> None:
    op, _ = so.start(start(OpType.HOT_WORK, None, hours=10, test=good(-1)), ENT, None, POLICY)
    assert op.grade == "special"


def test_out_of_limits_then_good_reading_clears() -> None:
    op, _ = so.start(start(test=good(-1)), ENT, None, POLICY)
    op, out = so.gas_test(op, GasReading(at(5), o2_pct=18.0), POLICY)
    assert rules(out) == ["gas_out_of_limits"]
    op, out = so.gas_test(op, good(6), POLICY)
    assert "gas_out_of_limits" in [c.key.rule for c in out.clears]


@pytest.mark.parametrize(
    ("grade", "gap", "alarm"),
    [("special", 31, True), ("1", 30, False), ("1", 31, True), ("2", 60, False), ("2", 61, True)],
)
def test_retest_after_interruption(grade: str, gap: float, alarm: bool) -> None:
    op, _ = so.start(start(grade=grade, test=good(-1), camera="CAM-1"), ENT, None, POLICY)
    op = so.pause(op, at(10))
    op, out = so.resume(op, at(10 + gap), POLICY)
    assert ("retest_missing" in rules(out)) is alarm
    assert op.needs_retest is alarm
    if alarm:
        op, out = so.gas_test(op, good(10 + gap + 1), POLICY)
        assert not op.needs_retest
        assert "retest_missing" in [c.key.rule for c in out.clears]


def test_probe_test_early_in_a_long_pause_does_not_count() -> None:
    """二级动火 paused at minute 10, tested at 11, resumed at 250: the analysis is 239 min old."""
    op, _ = so.start(start(grade="2", test=good(-1)), ENT, None, POLICY)
    op = so.pause(op, at(10))
    op, _ = so.gas_test(op, good(11), POLICY)
    op, out = so.resume(op, at(250), POLICY)
    assert rules(out) == ["retest_missing"]


@pytest.mark.parametrize(("tested", "alarm"), [(50, False), (59, False), (49, True)])
def test_retest_must_be_within_30_min_before_the_restart(tested: float, alarm: bool) -> None:
    op, _ = so.start(start(grade="1", test=good(-1)), ENT, None, POLICY)
    op = so.pause(op, at(10))
    op, _ = so.gas_test(op, good(tested), POLICY)
    op, out = so.resume(op, at(80), POLICY)
    assert ("retest_missing" in rules(out)) is alarm


def test_failed_analysis_in_the_pause_does_not_count() -> None:
    op, _ = so.start(start(grade="1", test=good(-1)), ENT, None, POLICY)
    op = so.pause(op, at(10))
    op, out = so.gas_test(op, GasReading(at(75), o2_pct=18.0), POLICY)
    assert rules(out) == ["gas_out_of_limits"]
    op, out = so.resume(op, at(80), POLICY)
    assert rules(out) == ["retest_missing"]


def test_confined_space_retest_after_60_min() -> None:
    """GB 30871-2022 6.3 f): 作业中断时间超过 60 min 时，应重新进行气体检测分析."""
    op, _ = so.start(start(OpType.CONFINED_SPACE, None, test=good(-1)), ENT, None, POLICY)
    op = so.pause(op, at(10))
    assert rules(so.resume(op, at(70), POLICY)[1]) == []
    assert rules(so.resume(op, at(71), POLICY)[1]) == ["retest_missing"]


def test_daily_analysis_before_the_first_restart_of_a_calendar_day() -> None:
    """每日动火前: 二级动火 paused 17:00 and resumed 08:30 next day (Shanghai) needs a new test,
    even though 15.5 h is judged by calendar day, not by a rolling 24 h."""
    day = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
    ev = OpStart(
        "e1",
        day,
        OpId("op-d"),
        OpType.HOT_WORK,
        "2",
        "P-2",
        day,
        day + timedelta(hours=70),
        "罐区",
        "李四",
        GasReading(day - timedelta(minutes=5), o2_pct=20.9),
        guardian_cert="JH-1",
    )
    op, out = so.start(ev, ENT, None, POLICY)
    assert rules(out) == []
    op = so.pause(op, datetime(2026, 3, 3, 9, 0, tzinfo=UTC))  # 17:00
    # Monday-to-Friday daytime restart the next morning at 08:30 Shanghai.
    restart = datetime(2026, 3, 4, 0, 30, tzinfo=UTC)
    _, out = so.resume(op, restart, POLICY)
    assert rules(out) == ["retest_missing"]
    tested, _ = so.gas_test(op, GasReading(restart - timedelta(minutes=10), o2_pct=20.9), POLICY)
    _, out = so.resume(tested, restart, POLICY)
    assert rules(out) == []


def test_work_going_on_into_a_new_day_needs_that_days_analysis() -> None:
    op, _ = so.start(start(grade="2", hours=48, test=good(-1)), ENT, None, POLICY)
    # 23:59 Shanghai the same day: fine; 00:01 next day without an analysis: stale.
    assert rules(so.periodic(op, datetime(2026, 3, 3, 15, 59, tzinfo=UTC), POLICY)) == []
    late = so.periodic(op, datetime(2026, 3, 3, 16, 1, tzinfo=UTC), POLICY)
    assert rules(late) == ["gas_test_stale"]


def test_retest_made_during_the_pause_is_enough() -> None:
    op, _ = so.start(start(grade="1", test=good(-1)), ENT, None, POLICY)
    op = so.pause(op, at(10))
    op, _ = so.gas_test(op, good(80), POLICY)
    op, out = so.resume(op, at(90), POLICY)
    assert rules(out) == []


def test_continuous_monitoring_for_special_hot_work_and_two_hourly_for_confined_space() -> None:
    op, _ = so.start(start(grade="special", test=good(-1), camera="C1"), ENT, None, POLICY)
    assert rules(so.periodic(op, at(4), POLICY)) == []
    assert rules(so.periodic(op, at(6.5), POLICY)) == ["gas_test_stale"]
    # A reading out of limits is still monitoring data (its own alarm says what is wrong).
    op, _ = so.gas_test(op, GasReading(at(6), o2_pct=18.0), POLICY)
    assert rules(so.periodic(op, at(10), POLICY)) == []
    cs, _ = so.start(start(OpType.CONFINED_SPACE, None, test=good(-1)), ENT, None, POLICY)
    assert rules(so.periodic(cs, at(119), POLICY)) == []
    assert rules(so.periodic(cs, at(121.5), POLICY)) == ["gas_test_stale"]
    assert rules(so.periodic(so.pause(cs, at(100)), at(125), POLICY)) == []


def test_permit_expiry_while_open_and_at_the_end() -> None:
    op, _ = so.start(start(hours=1, test=good(-1)), ENT, None, POLICY)
    assert rules(so.periodic(op, at(50), POLICY)) == []
    assert rules(so.periodic(op, at(60), POLICY)) == ["permit_expired"]
    ended, out = so.end(op, at(70))
    assert ended.state is OpState.ENDED
    assert rules(out) == ["permit_expired"]
    assert rules(so.periodic(ended, at(80), POLICY)) == []
