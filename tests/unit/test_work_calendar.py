"""Statutory holidays and 调休 (config/holidays.yaml): the work calendar, 升级管理 and the demo
simulator's duty days follow the 国务院办公厅 notice, not only the weekday."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.policy_calendar import load_work_calendar
from config.policy_monitoring import load_monitoring_policy
from config.settings import DEFAULT_POLICY_DIR
from domain.errors import ConfigurationError
from domain.special_ops_oversight import upgrade_reason
from domain.work_calendar import WEEKENDS_ONLY, WorkCalendar
from monitor.sim_model import SiteModel

TZ = ZoneInfo("Asia/Shanghai")
CAL = load_work_calendar(DEFAULT_POLICY_DIR)


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (date(2026, 10, 1), "holiday"),  # 国庆节, a Thursday
        (date(2026, 10, 7), "holiday"),  # last day of 国庆节, a Wednesday
        (date(2026, 10, 8), "workday"),
        (date(2026, 10, 10), "workday"),  # Saturday, 调休 上班
        (date(2026, 9, 20), "workday"),  # Sunday, 调休 上班
        (date(2026, 10, 11), "rest_day"),  # an ordinary Sunday
        (date(2026, 2, 14), "workday"),  # Saturday before 春节, 上班
        (date(2026, 2, 23), "holiday"),  # Monday, 春节 放假调休
        (date(2026, 1, 4), "workday"),  # Sunday after 元旦, 上班
        (date(2026, 12, 3), "workday"),  # an ordinary Thursday
        (date(2025, 10, 8), "holiday"),  # 2025 国庆节、中秋节 ran to 8 October
        (date(2025, 10, 11), "workday"),  # Saturday, 调休 上班 in 2025
    ],
)
def test_days_follow_the_state_council_notice(day: date, kind: str) -> None:
    assert CAL.day_kind(day) == kind


def test_a_year_without_a_notice_falls_back_to_weekends() -> None:
    assert not CAL.knows(date(2027, 2, 10))
    assert CAL.day_kind(date(2027, 1, 2)) == "rest_day"  # a Saturday
    assert CAL.day_kind(date(2027, 1, 4)) == "workday"  # a Monday


def test_upgrade_uses_the_same_calendar() -> None:
    ops = load_monitoring_policy(DEFAULT_POLICY_DIR).special_ops
    noon = datetime(2026, 10, 1, 12, 0, tzinfo=TZ)
    assert upgrade_reason(noon, ops.upgrade) == "holiday"
    assert upgrade_reason(datetime(2026, 10, 10, 12, 0, tzinfo=TZ), ops.upgrade) is None
    assert upgrade_reason(datetime(2026, 10, 11, 12, 0, tzinfo=TZ), ops.upgrade) == "rest_day"


def test_the_file_refuses_a_day_that_is_both(tmp_path: Path) -> None:
    text = (DEFAULT_POLICY_DIR / "holidays.yaml").read_text(encoding="utf-8")
    (tmp_path / "holidays.yaml").write_text(
        text.replace("workdays: [2026-01-04,", "workdays: [2026-10-02, 2026-01-04,"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError, match="both holiday and working day"):
        load_work_calendar(tmp_path)


def _rest_days_planned(calendar: WorkCalendar, days: list[date]) -> dict[date, bool]:
    """Whether the paced simulator planned a day as a rest day: 二级 hot work only, and the
    rest-day rate of operations; judged from many sites so the difference is certain."""
    share_on: dict[date, float] = {}
    for day in days:
        ops = 0
        for seed in range(200):
            site = SiteModel("91652301MA7XXXXXX1", random.Random(seed), TZ, 0.0, calendar=calendar)
            now = datetime.combine(day, datetime.min.time(), TZ) + timedelta(hours=7)
            site.next(now)  # the first message of the day is its commitment, planning the day
            assert site.pace is not None
            ops += len(site.pace.plan)
        share_on[day] = ops / 200
    working = share_on[days[0]]
    return {day: share < working / 2 for day, share in share_on.items()}


def test_the_simulator_rests_on_holidays_and_works_on_make_up_days() -> None:
    # Thursday 2026-12-03 (workday), National Day Thursday 2026-10-01 (holiday),
    # Saturday 2026-10-10 (调休 上班), Sunday 2026-10-11 (rest day).
    days = [date(2026, 12, 3), date(2026, 10, 1), date(2026, 10, 10), date(2026, 10, 11)]
    rest = _rest_days_planned(CAL, days)
    assert rest == {days[0]: False, days[1]: True, days[2]: False, days[3]: True}
    # Without the calendar the holiday looks like a working day: the test can fail.
    plain = _rest_days_planned(WEEKENDS_ONLY, days)
    assert plain[days[1]] is False
    assert plain[days[2]] is True
