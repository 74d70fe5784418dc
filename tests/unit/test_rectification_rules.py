"""Measure 3's preconditions, extensions and order states (pure, fixed dates)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.enforcement import Severity
from domain.errors import RuleViolation, ValidationFailed
from domain.rectification import (
    MeasureFacts,
    after_acknowledgement,
    check_extension,
    check_measure,
    doc_number,
    ensure_open,
    is_overdue,
)

TODAY = date(2026, 12, 3)
MAJOR = Severity.MAJOR_HAZARD
APPROVAL = "局长批准（昌州应急批〔2026〕1号）"


@pytest.mark.parametrize("kind", ["rectify_order", "education", "interview", "warning"])
def test_flexible_instruments_need_no_coercive_precondition(kind: str) -> None:
    check_measure(MeasureFacts(kind=kind, severity=Severity.MINOR))


@pytest.mark.parametrize("kind", ["suspend_production", "stop_equipment"])
def test_suspension_only_for_a_major_hazard_whose_safety_cannot_be_kept(kind: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        check_measure(MeasureFacts(kind=kind, severity=Severity.GENERAL, safety_not_ensured=True))
    assert "只适用于重大事故隐患" in info.value.details["kind"]
    with pytest.raises(ValidationFailed) as info:
        check_measure(MeasureFacts(kind=kind, severity=MAJOR))
    assert "第六十五条第一款第（三）项" in info.value.details["safety_not_ensured"]
    check_measure(MeasureFacts(kind=kind, severity=MAJOR, safety_not_ensured=True))


def test_power_is_cut_only_after_a_recorded_refusal_with_danger_and_approval() -> None:
    with pytest.raises(ValidationFailed) as info:
        check_measure(MeasureFacts(kind="stop_power", severity=MAJOR))
    assert set(info.value.details) == {"refused_before", "imminent_danger", "head_approval"}
    assert "第七十条" in info.value.details["refused_before"]
    facts = MeasureFacts(
        kind="stop_power",
        severity=MAJOR,
        refused_before=True,
        imminent_danger=True,
        head_approval=APPROVAL,
    )
    check_measure(facts)
    with pytest.raises(ValidationFailed, match="只适用于重大事故隐患"):
        check_measure(MeasureFacts(**{**_asdict(facts), "severity": Severity.GENERAL}))


def _asdict(f: MeasureFacts) -> dict[str, object]:
    return {name: getattr(f, name) for name in f.__slots__}  # type: ignore[attr-defined]


def test_extensions_are_later_bounded_and_reasoned() -> None:
    current = TODAY + timedelta(days=10)
    assert (
        check_extension(
            requested=current + timedelta(days=5),
            current=current,
            today=TODAY,
            reason=" 设备未到货 ",
        )
        == "设备未到货"
    )
    with pytest.raises(ValidationFailed, match="必须晚于当前期限"):
        check_extension(requested=current, current=current, today=TODAY, reason="设备未到货")
    with pytest.raises(ValidationFailed, match="延期不能超过60天"):
        check_extension(
            requested=current + timedelta(days=61),
            current=current,
            today=TODAY,
            reason="设备未到货",
        )
    with pytest.raises(ValidationFailed) as info:
        check_extension(
            requested=current + timedelta(days=1), current=current, today=TODAY, reason="没"
        )
    assert "reason" in info.value.details


def test_order_states() -> None:
    assert after_acknowledgement("issued") == "acknowledged"
    assert after_acknowledgement("submitted") == "submitted"
    assert is_overdue(state="acknowledged", deadline=TODAY, today=TODAY + timedelta(days=1))
    assert not is_overdue(state="acknowledged", deadline=TODAY, today=TODAY)
    assert not is_overdue(state="closed", deadline=TODAY, today=TODAY + timedelta(days=9))
    assert not is_overdue(state="overdue", deadline=TODAY, today=TODAY + timedelta(days=9))
    with pytest.raises(RuleViolation, match="已结案"):
        ensure_open("closed", 7)
    assert doc_number("昌州应急责改", 2026, 7) == "昌州应急责改〔2026〕7号"
