"""Sampling plans (抽查计划): scope, strata, caps, teams and the rules a draw applies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import NewType

from domain.directory import CREDIT_CLASSES, RISK_COLOURS, EnterpriseCode
from domain.errors import ValidationFailed
from domain.i18n import EN, Message, msg, render

PlanId = NewType("PlanId", str)

ANY = "*"
#: 行政处罚法 Art. 42: at least two enforcement officers.
MIN_TEAM_SIZE = 2


class DrawMode(StrEnum):
    """不定向 (random selection) or 定向 (a fixed list of targets)."""

    RANDOM = "random"
    FIXED = "fixed"


class ShutdownPolicy(StrEnum):
    """What a draw does with enterprises whose operating state counts as shut down."""

    EXCLUDE = "exclude"
    INCLUDE = "include"


class PublicValueSource(StrEnum):
    """Whether a scheduled draw runs at once or waits for a witnessed public value."""

    NONE = "none"
    WITNESSED = "witnessed"


@dataclass(frozen=True, slots=True)
class Stratum:
    """A cell of sector × risk colour × credit class ("*" = any) with its draw ratio and bounds."""

    sector: str
    risk_colour: str
    credit_class: str
    ratio: str
    minimum: int = 0
    maximum: int | None = None
    #: Staffing priority (1 = staffed first); 0 means the default, `default_priority`.
    priority: int = 0

    @property
    def staffing_priority(self) -> int:
        """The priority this stratum's selected enterprises are staffed with (1 = first)."""
        return self.priority or default_priority(self.risk_colour, self.credit_class)

    @property
    def stratum_id(self) -> str:
        """The stratum's identifier, `sector|risk_colour|credit_class`."""
        return f"{self.sector}|{self.risk_colour}|{self.credit_class}"

    def matches(self, sector: str, risk_colour: str, credit_class: str) -> bool:
        """Whether an enterprise with these attributes falls in this stratum."""
        return (
            self.sector in (ANY, sector)
            and self.risk_colour in (ANY, risk_colour)
            and self.credit_class in (ANY, credit_class)
        )


@dataclass(frozen=True, slots=True)
class TeamRule:
    """Team composition: officers per team split over departments by quota, plus experts."""

    size: int
    departments: tuple[str, ...]
    quotas: tuple[int, ...]
    experts: int = 0


@dataclass(frozen=True, slots=True)
class DrawRules:
    """Everything a draw applies; its canonical JSON is the published rules snapshot."""

    period_start: date
    period_end: date
    counties: tuple[str, ...]
    sectors: tuple[str, ...]
    mode: DrawMode
    fixed_list: tuple[EnterpriseCode, ...]
    strata: tuple[Stratum, ...]
    yearly_cap: int
    cooldown_days: int
    team: TeamRule
    workload_cap: int
    own_county_rule: bool
    shutdown_policy: ShutdownPolicy
    shutdown_states: tuple[str, ...]
    excluded: tuple[tuple[EnterpriseCode, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a plan draws: a cron expression in the bureau's zone and the inspection window."""

    cron: str
    timezone: str = "Asia/Shanghai"
    window_days: int = 30
    period_format: str = "%Y-%m"
    public_value: PublicValueSource = PublicValueSource.NONE


@dataclass(frozen=True, slots=True)
class Plan:
    """A sampling plan: its identity, its rules template and (optionally) its schedule."""

    plan_id: PlanId
    title: str
    rules: DrawRules
    schedule: Schedule | None = None
    notes: str = field(default="")


def default_priority(risk_colour: str, credit_class: str) -> int:
    """Risk colour first (red → blue, then "*"), then credit class (D → A, then "*"): 1 … 25.

    Bureau interpretation of 国发〔2019〕5号 (分类分级: more attention to higher risk) and of
    信用风险分类 (worse credit, more attention)."""
    colours = (*RISK_COLOURS, ANY)
    classes = (*reversed(CREDIT_CLASSES), ANY)
    return 1 + 5 * colours.index(risk_colour) + classes.index(credit_class)


def even_quotas(size: int, departments: int) -> tuple[int, ...]:
    """Split `size` officers over `departments` as evenly as possible, earlier ones first."""
    if departments < 1:
        raise ValidationFailed(msg("plan.department_required"))
    base, extra = divmod(size, departments)
    return tuple(base + (1 if i < extra else 0) for i in range(departments))


def parse_ratio(text: str) -> Decimal:
    """Return a draw ratio as an exact decimal in [0, 1]; refuse anything else."""
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError) as exc:
        raise ValidationFailed(msg("plan.ratio_not_number", text=text)) from exc
    if not value.is_finite() or value < 0 or value > 1:
        raise ValidationFailed(msg("plan.ratio_range", text=text))
    return value


def canonical_ratio(text: str) -> str:
    """Return a ratio as a plain decimal without exponent or trailing zeros ("0.050" → "0.05")."""
    value = parse_ratio(text)
    out = format(value.normalize(), "f")
    return out if out not in {"-0", ""} else "0"


def rules_problems(rules: DrawRules) -> list[Message]:
    """Return every reason these rules are unusable (empty when they are fine), as catalogue
    messages (`plan.rule.*`)."""
    # The verifier module is the one source of the published validity rules; imported here
    # (not at the top) because domain.draw imports this module.
    from domain.draw.verifier import CONTROL, EXCLUSION_REASONS

    problems: list[Message] = []
    if rules.period_end < rules.period_start:
        problems.append(msg("plan.rule.period_order"))
    team = rules.team
    if team.size < MIN_TEAM_SIZE:
        problems.append(msg("plan.rule.team_size", min=MIN_TEAM_SIZE))
    if not team.departments:
        problems.append(msg("plan.department_required"))
    if len(set(team.departments)) != len(team.departments):
        problems.append(msg("plan.rule.departments_twice"))
    if len(team.quotas) != len(team.departments):
        problems.append(msg("plan.rule.quota_per_department"))
    elif any(q < 1 for q in team.quotas) or sum(team.quotas) != team.size:
        problems.append(msg("plan.rule.quota_sum"))
    if team.experts < 0:
        problems.append(msg("plan.rule.experts_negative"))
    if rules.workload_cap < 1:
        problems.append(msg("plan.rule.workload_cap"))
    if rules.yearly_cap < 1:
        problems.append(msg("plan.rule.yearly_cap"))
    if rules.cooldown_days < 0:
        problems.append(msg("plan.rule.cooldown"))
    seen: set[str] = set()
    for stratum in rules.strata:
        if stratum.stratum_id in seen:
            problems.append(msg("plan.rule.stratum_twice", stratum=stratum.stratum_id))
        seen.add(stratum.stratum_id)
        if stratum.risk_colour not in (ANY, *RISK_COLOURS):
            problems.append(msg("plan.rule.risk_colour", stratum=stratum.stratum_id))
        if stratum.credit_class not in (ANY, *CREDIT_CLASSES):
            problems.append(msg("plan.rule.credit_class", stratum=stratum.stratum_id))
        try:
            parse_ratio(stratum.ratio)
        except ValidationFailed as exc:
            problems.append(
                msg(
                    "plan.rule.stratum",
                    stratum=stratum.stratum_id,
                    problem=exc.catalogue or exc.message,
                )
            )
        if stratum.priority < 0 or stratum.priority > 2**53:
            problems.append(msg("plan.rule.priority", stratum=stratum.stratum_id))
        if stratum.minimum < 0 or (
            stratum.maximum is not None and stratum.maximum < stratum.minimum
        ):
            problems.append(msg("plan.rule.bounds", stratum=stratum.stratum_id))
    if rules.mode is DrawMode.RANDOM and not rules.strata:
        problems.append(msg("plan.rule.random_needs_stratum"))
    if rules.mode is DrawMode.FIXED and not rules.fixed_list:
        problems.append(msg("plan.rule.fixed_needs_list"))
    for value in (*rules.counties, *rules.sectors, *team.departments):
        if "|" in value:
            problems.append(msg("plan.rule.bar", value=value))
    texts = [*rules.counties, *rules.sectors, *team.departments, *rules.fixed_list]
    texts += [*rules.shutdown_states, *(s.sector for s in rules.strata)]
    texts += [c for c, _ in rules.excluded]
    problems += [msg("plan.rule.control", value=v) for v in texts if CONTROL.search(v)]
    codes = [c for c, _ in rules.excluded]
    if len(set(codes)) != len(codes):
        problems.append(msg("plan.rule.excluded_twice"))
    problems += [
        msg("plan.rule.exclusion_reason", reason=r, codes=", ".join(EXCLUSION_REASONS))
        for _, r in rules.excluded
        if r not in EXCLUSION_REASONS
    ]
    for name, values in (
        ("counties", rules.counties),
        ("sectors", rules.sectors),
        ("fixed_list", rules.fixed_list),
        ("shutdown_states", rules.shutdown_states),
    ):
        if len(set(values)) != len(values):
            problems.append(msg("plan.rule.listed_twice", field=name))
    return problems


def check_rules(rules: DrawRules) -> DrawRules:
    """Return `rules` when usable, else raise ValidationFailed listing every problem."""
    problems = rules_problems(rules)
    if problems:
        raise ValidationFailed(
            msg("plan.rules_invalid", problems=problems),
            details={"problems": [render(p, EN) for p in problems]},
        )
    return rules
