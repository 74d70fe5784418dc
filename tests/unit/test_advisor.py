"""The inclusive-prudent advisor with a frozen clock: every branch and exclusion with the
reasons it prints, the provisional outcome lapsing when the deadline passes unverified."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.advisor import (
    Advice,
    AdvisorPolicy,
    Facts,
    Harm,
    Recommendation,
    advise,
    is_override,
    lapsed,
)
from domain.enforcement import ChecklistItem, Severity
from domain.i18n import render

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
TODAY = date(2026, 12, 3)
POLICY = AdvisorPolicy(lookback_days=365, max_rectify_days=30, version="fv v1 (2026-12-03)")
LISTED = ChecklistItem(
    "SP-TRAIN-01", "培训", "安全生产法 第二十八条", "安全生产法 第九十七条", True
)
UNLISTED = replace(LISTED, code="SP-CERT-01", first_violation_eligible=False)
MINOR = Facts(
    severity=Severity.MINOR, harm=Harm.NONE, corrected_on_site=False, deadline=TODAY + timedelta(15)
)


def _advise(facts: Facts, item: ChecklistItem = LISTED, prior: tuple[datetime, ...] = ()) -> Advice:
    return advise(facts, item=item, prior=prior, now=NOW, today=TODAY, policy=POLICY)


def _texts(advice: Advice) -> dict[str, str]:
    return {c.rule: render(c.text) for c in advice.checks}


def test_minor_without_harm_and_timely_is_no_penalty_mandatory() -> None:
    advice = _advise(MINOR, item=UNLISTED, prior=(NOW - timedelta(days=10),))
    assert advice.recommendation is Recommendation.NO_PENALTY  # repeat and unlisted: still 不予
    texts = _texts(advice)
    assert "第三十三条第一款第一句" in texts["result"]
    assert texts["timely"] == "整改期限15天，不超过30天，可认定为及时改正（待复查确认）"
    assert texts["first"] == "检查项SP-CERT-01在365天内已有1次同项违法，不属于初次违法"
    assert advice.provisional
    assert advice.verify_by == TODAY + timedelta(15)
    assert advice.policy_version == POLICY.version
    # every rule is listed, whether it decided or not
    assert set(texts) == {
        "accident", "major_hazard", "illegal_production", "bad_social_impact", "timely",
        "minor", "no_harm", "minor_harm", "first", "listed", "art32", "result",
    }  # fmt: skip


def test_first_violation_with_minor_harm_may_be_let_off() -> None:
    advice = _advise(replace(MINOR, severity=Severity.GENERAL, harm=Harm.MINOR))
    assert advice.recommendation is Recommendation.FIRST_VIOLATION
    texts = _texts(advice)
    assert "首违不罚" in texts["result"]
    assert "第三十三条第一款第二句" in texts["result"]
    assert texts["first"] == "检查项SP-TRAIN-01在365天内没有同项违法，属于初次违法"
    assert texts["listed"] == "检查项SP-TRAIN-01在首违不罚清单内"
    assert advice.provisional


def test_a_violation_outside_the_look_back_is_first_again() -> None:
    old = (NOW - timedelta(days=366),)
    facts = replace(MINOR, severity=Severity.GENERAL, harm=Harm.MINOR)
    assert _advise(facts, prior=old).recommendation is Recommendation.FIRST_VIOLATION
    recent = (NOW - timedelta(days=364),)
    assert _advise(facts, prior=recent).recommendation is Recommendation.CASE


@pytest.mark.parametrize(
    ("change", "rule", "text"),
    [
        ({"harm": Harm.SERIOUS}, "minor_harm", "危害后果不属于轻微"),
        ({"harm": None}, "minor_harm", "危害后果未认定，不能推定没有危害后果"),
        ({"deadline": TODAY + timedelta(170)}, "timely", "整改期限170天，超过30天，不属于及时改正"),
        ({"deadline": None}, "timely", "未确定整改期限，无法认定及时改正"),
    ],
)
def test_without_each_condition_first_violation_is_refused(
    change: dict[str, object], rule: str, text: str
) -> None:
    facts = replace(MINOR, severity=Severity.GENERAL, harm=Harm.MINOR)
    advice = _advise(replace(facts, **change))  # type: ignore[arg-type]
    assert advice.recommendation is Recommendation.CASE
    assert _texts(advice)[rule] == text
    assert _texts(advice)["result"] == "建议：立案调查"
    assert not advice.provisional


def test_an_unlisted_item_is_not_let_off_as_first() -> None:
    advice = _advise(replace(MINOR, severity=Severity.GENERAL, harm=Harm.MINOR), item=UNLISTED)
    assert advice.recommendation is Recommendation.CASE
    assert _texts(advice)["listed"] == "检查项SP-CERT-01不在首违不罚清单内"


def test_article_32_leads_to_a_lighter_case() -> None:
    facts = replace(
        MINOR,
        severity=Severity.GENERAL,
        harm=Harm.SERIOUS,
        mitigations=frozenset({"eliminated_harm", "confessed"}),
    )
    advice = _advise(facts)
    assert advice.recommendation is Recommendation.LENIENT
    texts = _texts(advice)
    assert "主动消除或者减轻违法行为危害后果" in texts["art32"]
    assert "主动供述行政机关尚未掌握的违法行为" in texts["art32"]
    assert "第三十二条" in texts["result"]
    assert not advice.provisional


@pytest.mark.parametrize(
    ("change", "rule", "text"),
    [
        ({"accident": True}, "accident", "发生生产安全事故"),
        ({"severity": Severity.MAJOR_HAZARD}, "major_hazard", "属于重大事故隐患"),
        ({"illegal_production": True}, "illegal_production", "属于非法生产（建设、经营）"),
        ({"bad_social_impact": True}, "bad_social_impact", "造成恶劣社会影响"),
    ],
)
def test_every_exclusion_always_opens_a_case(
    change: dict[str, object], rule: str, text: str
) -> None:
    facts = replace(MINOR, mitigations=frozenset({"eliminated_harm"}), **change)  # type: ignore[arg-type]
    advice = _advise(facts)
    assert advice.recommendation is Recommendation.CASE  # even 不予 and 从轻 conditions met
    assert _texts(advice)[rule] == text + "：排除情形，应当立案"
    assert not advice.provisional


def test_corrected_on_site_is_verified_not_provisional() -> None:
    advice = _advise(replace(MINOR, deadline=None, corrected_on_site=True))
    assert advice.recommendation is Recommendation.NO_PENALTY
    assert not advice.provisional
    assert advice.verify_by is None
    assert _texts(advice)["timely"] == "已当场改正（检查人员现场确认），属于及时改正"


def test_provisional_outcome_lapses_when_the_deadline_passes_unverified() -> None:
    deadline = TODAY + timedelta(15)
    kw = {"provisional": True, "verify_by": deadline}
    assert not lapsed(**kw, verified_on=None, today=deadline)  # type: ignore[arg-type]
    assert lapsed(**kw, verified_on=None, today=deadline + timedelta(1))  # type: ignore[arg-type]
    assert not lapsed(**kw, verified_on=deadline, today=deadline + timedelta(9))  # type: ignore[arg-type]
    assert lapsed(**kw, verified_on=deadline + timedelta(1), today=deadline + timedelta(9))  # type: ignore[arg-type]
    assert not lapsed(
        provisional=False, verify_by=deadline, verified_on=None, today=date(2030, 1, 1)
    )


def test_an_override_is_any_departure() -> None:
    assert is_override("case", "no_penalty")
    assert not is_override("first_violation", "first_violation")
