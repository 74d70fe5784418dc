"""The yearly cap on hand-made inspections and the deadline a supervisor grants (pure rules)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import RuleViolation, ValidationFailed
from domain.i18n import render
from domain.inspection_cap import YearlyCap, ensure_within_cap
from domain.rectification import check_granted


def test_the_cap_refuses_once_taken_and_never_goes_negative() -> None:
    ensure_within_cap(YearlyCap(year=2026, cap=2, counted=1))
    for counted in (2, 3):
        cap = YearlyCap(year=2026, cap=2, counted=counted)
        assert cap.remaining == 0
        with pytest.raises(RuleViolation) as err:
            ensure_within_cap(cap)
        text = render(err.value.message)
        assert f"2026年度检查次数已达上限（2次，已有{counted}次）" in text


def test_a_granted_deadline_is_later_not_past_and_not_beyond_the_request() -> None:
    current, requested, today = date(2026, 12, 10), date(2026, 12, 30), date(2026, 12, 3)
    check_granted(granted=date(2026, 12, 20), requested=requested, current=current, today=today)
    check_granted(granted=requested, requested=requested, current=current, today=today)
    for granted, words in (
        (current, "必须晚于"),
        (date(2026, 12, 31), "不能晚于企业申请的期限"),
    ):
        with pytest.raises(ValidationFailed) as err:
            check_granted(granted=granted, requested=requested, current=current, today=today)
        assert words in str(err.value.details["deadline"])
