"""Checklist enforcement: complete findings only; 首违不罚 with its exclusions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from config.policy_enforcement import load_catalogue, load_first_violation
from config.settings import DEFAULT_POLICY_DIR
from domain.enforcement import FindingDraft, Outcome, Severity, decide, validate_finding
from domain.errors import ConfigurationError, ValidationFailed

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 29)
CATALOGUE = load_catalogue(DEFAULT_POLICY_DIR).as_domain()
POLICY = load_first_violation(DEFAULT_POLICY_DIR)

DRAFT = FindingDraft(
    item_code="SP-TRAIN-01",
    legal_basis="安全生产法 第二十八条",
    cause="新入职员工3人未经三级安全教育即上岗",
    measure="组织补训并考核合格后上岗，建立培训档案",
    deadline=TODAY + timedelta(days=15),
    severity=Severity.MINOR,
)


def test_complete_finding_is_accepted() -> None:
    validate_finding(DRAFT, catalogue=CATALOGUE, today=TODAY)


@pytest.mark.parametrize(
    ("field", "zh"), [("legal_basis", "法律依据"), ("cause", "原因"), ("measure", "整改措施")]
)
def test_finding_without_basis_cause_or_measure_is_refused(field: str, zh: str) -> None:
    with pytest.raises(ValidationFailed, match=f"必须填写{zh}") as info:
        validate_finding(replace(DRAFT, **{field: " "}), catalogue=CATALOGUE, today=TODAY)
    assert field in info.value.details


def test_deadline_required_unless_corrected_on_site_and_never_past() -> None:
    with pytest.raises(ValidationFailed, match="必须填写整改期限"):
        validate_finding(replace(DRAFT, deadline=None), catalogue=CATALOGUE, today=TODAY)
    validate_finding(
        replace(DRAFT, deadline=None, corrected_on_site=True), catalogue=CATALOGUE, today=TODAY
    )
    with pytest.raises(ValidationFailed, match="整改期限2026年11月28日已过"):
        validate_finding(
            replace(DRAFT, deadline=TODAY - timedelta(days=1)), catalogue=CATALOGUE, today=TODAY
        )


def test_unknown_item_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="检查项XX-NOPE-01不在检查清单目录中") as info:
        validate_finding(replace(DRAFT, item_code="XX-NOPE-01"), catalogue=CATALOGUE, today=TODAY)
    assert "item_code" in info.value.details


def _decide(draft: FindingDraft, prior: list[datetime] | None = None) -> Outcome:
    return decide(
        draft,
        item=CATALOGUE[draft.item_code],
        prior_violations=prior or [],
        now=NOW,
        lookback_days=POLICY.lookback_days,
    ).outcome


def test_first_minor_violation_gets_guidance() -> None:
    assert _decide(DRAFT) is Outcome.GUIDANCE


def test_repeat_within_lookback_is_not_first() -> None:
    assert _decide(DRAFT, [NOW - timedelta(days=100)]) is Outcome.RECTIFY
    assert _decide(DRAFT, [NOW - timedelta(days=400)]) is Outcome.GUIDANCE


@pytest.mark.parametrize(
    "change",
    [{"accident": True}, {"severity": Severity.MAJOR_HAZARD}, {"illegal_production": True}],
)
def test_exclusions_always_open_a_case(change: dict[str, object]) -> None:
    assert _decide(replace(DRAFT, **change)) is Outcome.PENALTY_PROCEDURE  # type: ignore[arg-type]


def test_items_off_the_list_or_not_minor_are_rectified() -> None:
    assert _decide(replace(DRAFT, item_code="SP-CERT-01")) is Outcome.RECTIFY
    assert _decide(replace(DRAFT, severity=Severity.GENERAL)) is Outcome.RECTIFY


def test_policy_files_refuse_unknown_keys_and_dropped_exclusions(tmp_path: Path) -> None:
    (tmp_path / "first_violation.yaml").write_text(
        "version: 1\nlookback_days: 365\nmax_rectify_days: 30\nexcluded: [accident]\n"
    )
    with pytest.raises(ConfigurationError, match="exclusions"):
        load_first_violation(tmp_path)
    (tmp_path / "checklist_catalogue.yaml").write_text(
        "version: 1\nitems:\n  - code: SP-A-01\n    title: x1\n    legal_basis: b1\n"
        "    first_violation_eligble: true\n"
    )
    with pytest.raises(ConfigurationError, match="first_violation_eligble"):
        load_catalogue(tmp_path)
