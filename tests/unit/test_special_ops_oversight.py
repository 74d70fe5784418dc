"""升级管理, video of 特级动火, temporary power and guardians, at their boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from config.policy_monitoring import load_monitoring_policy
from config.settings import DEFAULT_POLICY_DIR
from domain import special_ops as so
from domain.i18n import op_label, render
from domain.monitoring import EnterpriseId, OpId, RuleOutcome
from domain.special_ops import GasReading, OpStart, OpType
from domain.special_ops_oversight import upgrade_reason

POLICY = load_monitoring_policy(DEFAULT_POLICY_DIR).special_ops
ENT = EnterpriseId("91330102100000000X")


def sh(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    """A Shanghai wall-clock time as UTC."""
    return datetime(y, mo, d, h, mi, tzinfo=UTC) - timedelta(hours=8)


def start(
    ts: datetime,
    grade: str | None = "2",
    op_type: OpType = OpType.HOT_WORK,
    *,
    op_id: str = "op-1",
    hours: float = 4,
    location: str = "罐区",
    guardian: str = "李四",
    cert: str | None = "JH-1",
    camera: str | None = None,
    serves: str | None = None,
) -> OpStart:
    return OpStart(
        op_id,
        ts,
        OpId(op_id),
        op_type,
        grade,
        "P-" + op_id,
        ts,
        ts + timedelta(hours=hours),
        location,
        guardian,
        GasReading(ts - timedelta(minutes=5), o2_pct=20.9),
        guardian_cert=cert,
        camera=camera,
        serves_op=OpId(serves) if serves else None,
    )


def rules(outcome: RuleOutcome) -> list[str]:
    return sorted(r.key.rule for r in outcome.raises)


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        (sh(2026, 3, 3, 8, 0), None),  # Tuesday 08:00: day begins
        (sh(2026, 3, 3, 17, 59), None),
        (sh(2026, 3, 3, 18, 0), "night"),
        (sh(2026, 3, 3, 7, 59), "night"),
        (sh(2026, 3, 7, 10, 0), "rest_day"),  # Saturday
        (sh(2026, 2, 14, 10, 0), None),  # Saturday 上班 by the 2026 notice
        (sh(2026, 10, 1, 10, 0), "holiday"),
        (sh(2026, 2, 23, 10, 0), "holiday"),  # last day of the Spring Festival break
        (sh(2026, 2, 24, 10, 0), None),
    ],
)
def test_upgrade_calendar(when: datetime, reason: str | None) -> None:
    assert upgrade_reason(when, POLICY.upgrade) == reason


def test_night_hot_work_is_managed_one_grade_higher() -> None:
    op, out = so.start(start(sh(2026, 3, 3, 20), "2", hours=10), ENT, None, POLICY)
    assert op.grade == "1"
    assert op.reported_grade == "2"
    # 一级 allows 8 h only, and the message names the grade in Chinese.
    [too_long] = [r for r in out.raises if r.key.rule == "permit_too_long"]
    text = render(too_long.message)
    assert "一级动火作业" in text
    assert "夜间升级管理" in text
    op1, out = so.start(start(sh(2026, 3, 3, 20), "1"), ENT, None, POLICY)
    assert op1.grade == "special"
    assert rules(out) == ["video_missing"]


def test_daytime_hot_work_keeps_its_grade() -> None:
    op, out = so.start(start(sh(2026, 3, 3, 10), "2", hours=72), ENT, None, POLICY)
    assert op.grade == "2"
    assert op.reported_grade is None
    assert rules(out) == []


def test_restart_at_night_upgrades() -> None:
    op, _ = so.start(start(sh(2026, 3, 3, 10), "1", camera=None), ENT, None, POLICY)
    op = so.pause(op, sh(2026, 3, 3, 17, 50))
    op, _ = so.gas_test(op, GasReading(sh(2026, 3, 3, 18, 5), o2_pct=20.9), POLICY)
    op, out = so.resume(op, sh(2026, 3, 3, 18, 10), POLICY)
    assert op.grade == "special"
    assert op.reported_grade == "1"
    assert rules(out) == ["video_missing"]


def test_a_night_restart_of_work_raised_at_its_start_stays_one_grade_higher() -> None:
    """Started at night (二级 → 一级), paused, restarted at night and by day: still 一级 — one
    grade above the permit (GB 30871-2022 5.1.1), never two."""
    op, _ = so.start(start(sh(2026, 3, 3, 20), "2", hours=4), ENT, None, POLICY)
    assert (op.grade, op.reported_grade) == ("1", "2")
    for at in (sh(2026, 3, 3, 21), sh(2026, 3, 4, 9)):
        op = so.pause(op, at - timedelta(minutes=20))
        op, _ = so.gas_test(op, GasReading(at - timedelta(minutes=5), o2_pct=20.9), POLICY)
        op, _ = so.resume(op, at, POLICY)
        assert (op.grade, op.reported_grade) == ("1", "2"), at


def test_special_hot_work_needs_video_for_its_whole_duration() -> None:
    t = sh(2026, 3, 3, 10)
    op, out = so.start(start(t, "special"), ENT, None, POLICY)
    assert rules(out) == ["video_missing"]
    _, out = so.start(start(t, "special"), ENT, None, POLICY, video_live=True)
    assert rules(out) == []
    _, out = so.start(start(t, "special", camera="防爆摄像头-3"), ENT, None, POLICY)
    assert rules(out) == []
    op, _ = so.gas_test(op, GasReading(t + timedelta(minutes=1), o2_pct=20.9), POLICY)
    later = t + timedelta(minutes=2)
    assert rules(so.periodic(op, later, POLICY, video_live=True)) == []
    assert rules(so.periodic(op, later, POLICY, video_live=False)) == ["video_missing"]
    assert "video_missing" not in rules(so.start(start(t, "1"), ENT, None, POLICY)[1])


def test_temp_power_may_not_outlast_the_work_it_serves() -> None:
    t = sh(2026, 3, 3, 9)
    hot, _ = so.start(start(t, "2", op_id="hw", hours=8), ENT, None, POLICY)
    ok = start(t, None, OpType.TEMP_POWER, op_id="tp", hours=8, serves="hw")
    tp, _ = so.start(ok, ENT, None, POLICY)
    assert rules(so.check_temp_power(tp, hot, t, at_start=True)) == []
    long = start(t, None, OpType.TEMP_POWER, op_id="tp", hours=8.5, serves="hw")
    tp_long, _ = so.start(long, ENT, None, POLICY)
    assert rules(so.check_temp_power(tp_long, hot, t, at_start=True)) == ["temp_power_outlasts"]
    assert rules(so.check_temp_power(tp, None, t, at_start=True)) == ["temp_power_outlasts"]
    ended, _ = so.end(hot, t + timedelta(hours=2))
    opened = {("91330102100000000X", "tp"): tp}  # the hot work is no longer open
    out = so.periodic(tp, t + timedelta(hours=2, minutes=1), POLICY, open_ops=opened)
    assert rules(out) == ["temp_power_outlasts"]
    assert rules(so.check_temp_power(tp, ended, t, at_start=False)) == ["temp_power_outlasts"]


def test_one_guardian_cannot_watch_two_sites() -> None:
    t = sh(2026, 3, 3, 9)
    a, _ = so.start(start(t, "2", op_id="a", location="罐区"), ENT, None, POLICY)
    b, _ = so.start(start(t, "2", op_id="b", location="装置区"), ENT, None, POLICY)
    c, _ = so.start(start(t, "2", op_id="c", location="罐 区"), ENT, None, POLICY)
    assert rules(so.check_guardian_conflict(b, [a, b], t)) == ["guardian_conflict"]
    assert rules(so.check_guardian_conflict(c, [a, c], t)) == []  # same site
    other, _ = so.start(start(t, "2", op_id="d", location="装置区", cert="JH-2"), ENT, None, POLICY)
    assert rules(so.check_guardian_conflict(other, [a, other], t)) == []
    ended, _ = so.end(a, t)
    assert rules(so.check_guardian_conflict(b, [ended, b], t)) == []


@pytest.mark.parametrize(
    ("op_type", "grade", "label"),
    [
        (OpType.HOT_WORK, "special", "特级动火作业"),
        (OpType.HOT_WORK, "2", "二级动火作业"),
        (OpType.WORK_AT_HEIGHT, "IV", "Ⅳ级高处作业"),
        (OpType.WORK_AT_HEIGHT, "I", "Ⅰ级高处作业"),
        (OpType.LIFTING, "3", "三级吊装作业"),
        (OpType.CONFINED_SPACE, None, "受限空间作业"),
    ],
)
def test_grades_are_shown_by_their_chinese_names(
    op_type: OpType, grade: str | None, label: str
) -> None:
    assert render(op_label(op_type, grade)) == label


def test_ingest_step_sees_the_enterprises_other_operations() -> None:
    """The ingest applies starts through domain.replay: the second start of the same guardian
    at another location and a temporary power outlasting its hot work are both caught, in any
    arrival order (event-time order decides)."""
    from domain import replay as rp

    policy = load_monitoring_policy(DEFAULT_POLICY_DIR)
    policies = rp.Policies(policy.trial, policy.special_ops)
    t = sh(2026, 3, 3, 9)
    events = [
        rp.Ordered(rp.OpStartEvent(start(t, "2", op_id="a", location="罐区", hours=4))),
        rp.Ordered(
            rp.OpStartEvent(start(t + timedelta(minutes=1), "2", op_id="b", location="装置区"))
        ),
        rp.Ordered(
            rp.OpStartEvent(
                start(
                    t + timedelta(minutes=2),
                    None,
                    OpType.TEMP_POWER,
                    op_id="tp",
                    hours=5,
                    location="罐区",
                    cert="JH-9",
                    guardian="王五",
                    serves="a",
                )
            )
        ),
    ]
    for order in (events, events[::-1]):
        done = rp.replay(rp.EnterpriseState.empty(ENT), order, policies)
        raised = sorted((r.key.rule, r.key.subject) for r in done.outcome.raises)
        assert ("guardian_conflict", "op:b") in raised
        assert ("temp_power_outlasts", "op:tp") in raised
        assert ("guardian_conflict", "op:a") not in raised
