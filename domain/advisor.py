"""The inclusive-prudent advisor (包容审慎监管 measures 1–4): what a finding should lead to, with
every rule it checked and its result in zh-CN. Pure; the officer confirms or overrides.

Sources (行政处罚法, 2021年修订):
- 第三十三条第一款第一句 — 违法行为轻微并及时改正，没有造成危害后果的，不予行政处罚 (mandatory).
- 第三十三条第一款第二句 — 初次违法且危害后果轻微并及时改正的，可以不予行政处罚 (首违不罚, may;
  which items the bureau lets off is its first-violation list).
- 第三十二条 — 主动消除或者减轻违法行为危害后果的 (and the other listed cases): 应当从轻或者减轻.
- 第三十六条 — 违法行为在二年内未被发现的，不再给予行政处罚；涉及公民生命健康安全 … 延长至五年:
  the outer bound of the look-back that decides "初次" (config/first_violation.yaml).
Exclusions of the seed policy always lead to 立案: an accident, a 重大事故隐患, 非法生产（建设、
经营）, 恶劣社会影响. "及时改正" is judged: a 不予/首违 outcome is provisional until a 复查 verifies
the rectification by the deadline (`lapsed`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.enforcement import ChecklistItem, Severity
from domain.i18n import ZH, Message, msg, render


class Harm(StrEnum):
    """The harmful consequences the officer established."""

    NONE = "none"  # 没有造成危害后果
    MINOR = "minor"  # 危害后果轻微
    SERIOUS = "serious"  # 造成危害后果（非轻微）


class Recommendation(StrEnum):
    """What the advisor recommends for a finding."""

    NO_PENALTY = "no_penalty"  # 不予处罚 (第三十三条第一款第一句)
    FIRST_VIOLATION = "first_violation"  # 首违不罚 (第三十三条第一款第二句)
    LENIENT = "lenient"  # 立案，从轻或者减轻 (第三十二条)
    CASE = "case"  # 立案


#: 第三十二条's cases an officer may tick.
MITIGATIONS = ("eliminated_harm", "coerced", "confessed", "meritorious", "other_law")
#: The five-year outer bound of 第三十六条 (two years, five where life and health are at stake).
LOOKBACK_OUTER_BOUND_DAYS = 5 * 365


@dataclass(frozen=True, slots=True)
class Facts:
    """What the officer established about a finding."""

    severity: Severity
    harm: Harm | None  # None: not established — never assumed to be none
    corrected_on_site: bool
    deadline: date | None
    accident: bool = False
    illegal_production: bool = False
    bad_social_impact: bool = False
    mitigations: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class AdvisorPolicy:
    """The bureau's settings the advisor applies, with the version stored with each decision."""

    lookback_days: int
    max_rectify_days: int
    version: str


@dataclass(frozen=True, slots=True)
class Check:
    """One rule the advisor checked and its result."""

    rule: str
    passed: bool
    text: Message


@dataclass(frozen=True, slots=True)
class Advice:
    """The recommendation, every rule checked, and whether it waits for verification."""

    recommendation: Recommendation
    checks: tuple[Check, ...]
    provisional: bool
    verify_by: date | None
    policy_version: str

    def as_json(self, lang: str = ZH) -> list[dict[str, object]]:
        """The checks as stored and shown: rule code, result, zh-CN text."""
        return [
            {"rule": c.rule, "passed": c.passed, "text": render(c.text, lang)} for c in self.checks
        ]


def _check(rule: str, passed: bool, ok: str, failed: str, **params: object) -> Check:
    return Check(rule, passed, msg(ok if passed else failed, **params))


def advise(
    facts: Facts,
    *,
    item: ChecklistItem,
    prior: Iterable[datetime],
    now: datetime,
    today: date,
    policy: AdvisorPolicy,
) -> Advice:
    """Recommend 不予处罚, 首违不罚, 从轻/减轻 or 立案, listing every rule with its result."""
    days = policy.lookback_days
    recent = [t for t in prior if now - t <= timedelta(days=days)]
    exclusions = (
        _check("accident", not facts.accident, "advice.no_accident", "advice.accident"),
        _check(
            "major_hazard",
            facts.severity is not Severity.MAJOR_HAZARD,
            "advice.no_major_hazard",
            "advice.major_hazard",
        ),
        _check(
            "illegal_production",
            not facts.illegal_production,
            "advice.no_illegal_production",
            "advice.illegal_production",
        ),
        _check(
            "bad_social_impact",
            not facts.bad_social_impact,
            "advice.no_bad_social_impact",
            "advice.bad_social_impact",
        ),
    )
    if facts.corrected_on_site:
        timely = Check("timely", True, msg("advice.timely_on_site"))
    elif facts.deadline is None:
        timely = Check("timely", False, msg("advice.no_deadline"))
    else:
        span = (facts.deadline - today).days
        timely = _check(
            "timely",
            span <= policy.max_rectify_days,
            "advice.timely",
            "advice.not_timely",
            days=span,
            max=policy.max_rectify_days,
        )
    minor = _check(
        "minor",
        facts.severity is Severity.MINOR,
        "advice.minor",
        "advice.not_minor",
        severity=facts.severity.value,
    )
    if facts.harm is None:
        no_harm = Check("no_harm", False, msg("advice.harm_unknown"))
        minor_harm = Check("minor_harm", False, msg("advice.harm_unknown"))
    else:
        no_harm = _check("no_harm", facts.harm is Harm.NONE, "advice.no_harm", "advice.harm")
        minor_harm = _check(
            "minor_harm",
            facts.harm in (Harm.NONE, Harm.MINOR),
            "advice.minor_harm",
            "advice.serious_harm",
        )
    first = _check(
        "first",
        not recent,
        "advice.first",
        "advice.repeat",
        item=item.code,
        days=days,
        count=len(recent),
    )
    listed = _check(
        "listed",
        item.first_violation_eligible,
        "advice.listed",
        "advice.not_listed",
        item=item.code,
    )
    mitigations = sorted(set(facts.mitigations) & set(MITIGATIONS))
    art32 = Check(
        "art32",
        bool(mitigations),
        msg(
            "advice.art32",
            cases=[msg(f"term.mitigation.{m}") for m in mitigations],
        )
        if mitigations
        else msg("advice.no_art32"),
    )
    checks = (*exclusions, timely, minor, no_harm, minor_harm, first, listed, art32)
    if not all(c.passed for c in exclusions):
        rec = Recommendation.CASE
    elif minor.passed and no_harm.passed and timely.passed:
        rec = Recommendation.NO_PENALTY
    elif first.passed and minor_harm.passed and timely.passed and listed.passed:
        rec = Recommendation.FIRST_VIOLATION
    elif art32.passed:
        rec = Recommendation.LENIENT
    else:
        rec = Recommendation.CASE
    waits = rec in (Recommendation.NO_PENALTY, Recommendation.FIRST_VIOLATION)
    provisional = waits and not facts.corrected_on_site
    return Advice(
        recommendation=rec,
        checks=(*checks, Check("result", True, msg(f"advice.result.{rec.value}"))),
        provisional=provisional,
        verify_by=facts.deadline if provisional else None,
        policy_version=policy.version,
    )


def lapsed(
    *, provisional: bool, verify_by: date | None, verified_on: date | None, today: date
) -> bool:
    """A provisional 不予/首违 outcome lapses when no 复查 verified the rectification by the
    deadline: the rectification was not 及时, so the finding reopens as 立案-recommended."""
    if not provisional or verify_by is None:
        return False
    if verified_on is not None:
        return verified_on > verify_by
    return today > verify_by


def is_override(recommendation: str, decision: str) -> bool:
    """Whether the officer's decision departs from the recommendation (needs a reason)."""
    return recommendation != decision
