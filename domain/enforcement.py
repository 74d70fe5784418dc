"""Checklist enforcement (清单式执法): complete findings only; 首违不罚 for first minor ones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from domain.errors import ValidationFailed


class Severity(StrEnum):
    """How serious a finding is."""

    MINOR = "minor"  # 轻微
    GENERAL = "general"  # 一般
    MAJOR_HAZARD = "major_hazard"  # 重大事故隐患


class Outcome(StrEnum):
    """What the finding leads to."""

    GUIDANCE = "guidance"  # 首违不罚: written guidance and rectification, no penalty
    RECTIFY = "rectify"  # rectification order; penalty decided by the case procedure
    PENALTY_PROCEDURE = "penalty_procedure"  # a case is opened (立案)


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One item of the checklist catalogue with its legal basis."""

    code: str
    title: str
    legal_basis: str
    penalty_basis: str | None
    first_violation_eligible: bool


@dataclass(frozen=True, slots=True)
class FindingDraft:
    """A finding as an inspector submits it, before it is accepted."""

    item_code: str
    legal_basis: str
    cause: str
    measure: str
    deadline: date | None
    severity: Severity
    accident: bool = False
    illegal_production: bool = False
    corrected_on_site: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of a finding and why."""

    outcome: Outcome
    reasons: tuple[str, ...]


REQUIRED_TEXT = ("legal_basis", "cause", "measure")


def validate_finding(
    draft: FindingDraft, *, catalogue: dict[str, ChecklistItem], today: date
) -> None:
    """Refuse a finding without legal basis, cause, measure and a future deadline."""
    problems: dict[str, str] = {}
    if draft.item_code not in catalogue:
        problems["item_code"] = f"{draft.item_code!r} is not in the checklist catalogue"
    for name in REQUIRED_TEXT:
        value = getattr(draft, name)
        if not isinstance(value, str) or len(value.strip()) < 2:
            problems[name] = "required: every rectification requirement states it (清单式执法)"
    if draft.deadline is None and not draft.corrected_on_site:
        problems["deadline"] = "required unless the hazard was corrected on site (当场整改)"
    elif draft.deadline is not None and draft.deadline < today:
        problems["deadline"] = f"deadline {draft.deadline.isoformat()} is in the past"
    if problems:
        text = "; ".join(f"{name}: {why}" for name, why in sorted(problems.items()))
        raise ValidationFailed(f"finding refused — {text}", details=problems)


def decide(
    draft: FindingDraft,
    *,
    item: ChecklistItem,
    prior_violations: Iterable[datetime],
    now: datetime,
    lookback_days: int,
) -> Decision:
    """首违不罚: guidance for a first minor violation, except the excluded cases."""
    reasons: list[str] = []
    if draft.accident:
        reasons.append("an accident occurred (发生生产安全事故) — excluded from 首违不罚")
    if draft.severity is Severity.MAJOR_HAZARD:
        reasons.append("major accident hazard (重大事故隐患) — excluded from 首违不罚")
    if draft.illegal_production:
        reasons.append("illegal production or operation (非法生产经营) — excluded from 首违不罚")
    if reasons:
        return Decision(Outcome.PENALTY_PROCEDURE, tuple(reasons))
    recent = [t for t in prior_violations if (now - t).days <= lookback_days]
    if draft.severity is Severity.MINOR and item.first_violation_eligible and not recent:
        return Decision(
            Outcome.GUIDANCE,
            (
                f"first minor violation of {item.code} within {lookback_days} days; "
                "guidance and rectification instead of a penalty (行政处罚法 第三十三条)",
            ),
        )
    if recent:
        reasons.append(
            f"{len(recent)} earlier violation(s) of {item.code} within "
            f"{lookback_days} days — not a first violation"
        )
    if draft.severity is not Severity.MINOR:
        reasons.append(f"severity {draft.severity.value} is not minor")
    if not item.first_violation_eligible:
        reasons.append(f"{item.code} is not on the first-violation list")
    return Decision(Outcome.RECTIFY, tuple(reasons))
