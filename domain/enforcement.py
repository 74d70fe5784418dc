"""Checklist enforcement (清单式执法): complete findings only; 首违不罚 for first minor ones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from domain.errors import ValidationFailed
from domain.i18n import ZH, Message, msg, render


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
    reasons: tuple[Message, ...]

    def texts(self, lang: str = ZH) -> list[str]:
        """The reasons as a person reads them (stored in zh-CN for the record)."""
        return [render(r, lang) for r in self.reasons]


REQUIRED_TEXT = ("legal_basis", "cause", "measure")


def validate_finding(
    draft: FindingDraft, *, catalogue: dict[str, ChecklistItem], today: date
) -> None:
    """Refuse a finding without legal basis, cause, measure and a future deadline."""
    problems: dict[str, Message] = {}
    if draft.item_code not in catalogue:
        problems["item_code"] = msg("finding.item_unknown", item=draft.item_code)
    for name in REQUIRED_TEXT:
        value = getattr(draft, name)
        if not isinstance(value, str) or len(value.strip()) < 2:
            problems[name] = msg("finding.required", field=name)
    if draft.deadline is None and not draft.corrected_on_site:
        problems["deadline"] = msg("finding.deadline_required")
    elif draft.deadline is not None and draft.deadline < today:
        problems["deadline"] = msg("finding.deadline_past", deadline=draft.deadline)
    if problems:
        items = [problems[name] for name in sorted(problems)]
        raise ValidationFailed(
            msg("finding.refused", problems=items),
            details={name: render(why) for name, why in problems.items()},
        )


def decide(
    draft: FindingDraft,
    *,
    item: ChecklistItem,
    prior_violations: Iterable[datetime],
    now: datetime,
    lookback_days: int,
) -> Decision:
    """首违不罚: guidance for a first minor violation, except the excluded cases."""
    reasons: list[Message] = []
    if draft.accident:
        reasons.append(msg("finding.reason.accident"))
    if draft.severity is Severity.MAJOR_HAZARD:
        reasons.append(msg("finding.reason.major_hazard"))
    if draft.illegal_production:
        reasons.append(msg("finding.reason.illegal_production"))
    if reasons:
        return Decision(Outcome.PENALTY_PROCEDURE, tuple(reasons))
    recent = [t for t in prior_violations if (now - t).days <= lookback_days]
    if draft.severity is Severity.MINOR and item.first_violation_eligible and not recent:
        return Decision(
            Outcome.GUIDANCE,
            (msg("finding.reason.first_violation", item=item.code, days=lookback_days),),
        )
    if recent:
        reasons.append(
            msg("finding.reason.repeat", count=len(recent), item=item.code, days=lookback_days)
        )
    if draft.severity is not Severity.MINOR:
        reasons.append(msg("finding.reason.not_minor", severity=draft.severity))
    if not item.first_violation_eligible:
        reasons.append(msg("finding.reason.not_listed", item=item.code))
    return Decision(Outcome.RECTIFY, tuple(reasons))
