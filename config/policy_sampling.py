"""The sampling policy (default strata with cited sources) and plan files, validated strictly."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.directory import CREDIT_CLASSES, RISK_COLOURS, EnterpriseCode
from domain.draw.public_value import PublicSource, period_label, period_window
from domain.draw.verifier import EXCLUSION_REASONS
from domain.errors import ConfigurationError, ValidationFailed
from domain.i18n import msg
from domain.plan import (
    ANY,
    DrawMode,
    DrawRules,
    Plan,
    PlanId,
    PublicValueSource,
    Schedule,
    ShutdownPolicy,
    Stratum,
    TeamRule,
    check_rules,
    even_quotas,
    parse_ratio,
)

DEFAULT_POLICY_PATH = Path(__file__).resolve().parent / "sampling_strata.yaml"
T = TypeVar("T")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """A cited document: its id, title, number and the provision relied on."""

    id: str
    title: str
    number: str
    provision: str


class Cited(_Strict, Generic[T]):
    """A default value with the sources it rests on and a note for the bureau."""

    value: T
    sources: list[str] = Field(default_factory=list)
    note: str = ""


class StratumSpec(_Strict):
    """One stratum row: sector × risk colour × credit class ("*" = any), ratio and bounds."""

    sector: str = ANY
    risk_colour: str = ANY
    credit_class: str = ANY
    ratio: str
    min: int = Field(default=0, ge=0)
    max: int | None = Field(default=None, ge=0)
    #: Staffing priority, 1 = staffed first; omitted: risk colour, then credit class.
    priority: int | None = Field(default=None, ge=1, le=2**53)
    sources: list[str] = Field(default_factory=list)

    @field_validator("ratio", mode="before")
    @classmethod
    def _ratio(cls, value: Any) -> str:
        if isinstance(value, float):
            raise ValueError('write the ratio as a quoted decimal string, e.g. "0.05"')
        text = str(value)
        try:
            parse_ratio(text)
        except ValidationFailed as exc:
            raise ValueError(exc.message) from exc
        return text

    @field_validator("risk_colour")
    @classmethod
    def _colour(cls, value: str) -> str:
        if value not in (ANY, *RISK_COLOURS):
            raise ValueError(f"risk colour must be one of {', '.join(RISK_COLOURS)} or *")
        return value

    @field_validator("credit_class")
    @classmethod
    def _klass(cls, value: str) -> str:
        if value not in (ANY, *CREDIT_CLASSES):
            raise ValueError(f"credit class must be one of {', '.join(CREDIT_CLASSES)} or *")
        return value

    def to_domain(self) -> Stratum:
        """The domain stratum."""
        return Stratum(
            self.sector,
            self.risk_colour,
            self.credit_class,
            self.ratio,
            self.min,
            self.max,
            self.priority or 0,
        )


class Defaults(_Strict):
    """Plan defaults, each with its cited sources."""

    yearly_cap: Cited[int]
    cooldown_days: Cited[int]
    team_size: Cited[int]
    experts_per_team: Cited[int]
    workload_cap: Cited[int]
    own_county_rule: Cited[bool]
    shutdown_policy: Cited[ShutdownPolicy]
    shutdown_states: Cited[list[str]]


class SamplingPolicy(_Strict):
    """The bureau's sampling policy file."""

    version: Literal[1]
    sources: list[Source]
    defaults: Defaults
    strata: list[StratumSpec]

    @model_validator(mode="after")
    def _consistent(self) -> SamplingPolicy:
        known = {s.id for s in self.sources}
        cited = [src for s in self.strata for src in s.sources]
        cited += [
            src
            for f in type(self.defaults).model_fields
            for src in getattr(self.defaults, f).sources
        ]
        unknown = sorted(set(cited) - known)
        if unknown:
            raise ValueError(f"unknown source id(s): {', '.join(unknown)}")
        if self.defaults.team_size.value < 2:
            raise ValueError("team_size must be at least 2 (行政处罚法 Art. 42)")
        ids = [s.to_domain().stratum_id for s in self.strata]
        if len(set(ids)) != len(ids):
            raise ValueError("a stratum is listed twice")
        uncovered = [
            f"{c}|{k}"
            for c in RISK_COLOURS
            for k in CREDIT_CLASSES
            if not any(
                s.to_domain().matches("(any sector)", c, k) for s in self.strata if s.sector == ANY
            )
        ]
        if uncovered:
            raise ValueError(f"default strata leave risk colour|credit class {uncovered} uncovered")
        return self

    def default_strata(self) -> tuple[Stratum, ...]:
        """The default strata as domain objects, in order."""
        return tuple(s.to_domain() for s in self.strata)


def _problems(exc: ValidationError) -> str:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(file)"
        out.append(f"{where}: {str(err['msg']).removeprefix('Value error, ')}")
    return "; ".join(out)


def load_sampling_policy(path: Path | None = None) -> SamplingPolicy:
    """Load and validate the sampling policy; raise ConfigurationError naming every problem."""
    path = path or DEFAULT_POLICY_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"cannot read sampling policy {path}: {exc}") from exc
    try:
        return SamplingPolicy.model_validate(raw)
    except ValidationError as exc:
        raise ConfigurationError(f"sampling policy {path}: {_problems(exc)}") from exc


class PeriodSpec(_Strict):
    """The period a plan file draws for: a window; its label is derived (`2025-03`)."""

    label: str | None = Field(default=None, min_length=1, max_length=64)
    start: date
    end: date

    @model_validator(mode="after")
    def _window(self) -> PeriodSpec:
        if self.end < self.start:
            raise ValueError("the period ends before it starts")
        canonical = period_label(self.start, self.end)
        if self.label is not None and self.label != canonical:
            raise ValueError(f"the label of {self.start}…{self.end} is {canonical!r}")
        return self

    @property
    def canonical(self) -> str:
        """`YYYY-MM` for a calendar month, else `YYYY-MM-DD/YYYY-MM-DD`."""
        return period_label(self.start, self.end)


class PublicSourceSpec(_Strict):
    """The public value a draw mixes in: a lottery issue or a beacon round, read after a time."""

    kind: Literal["lottery", "beacon"]
    name: str = Field(min_length=1, max_length=200)
    round: str = Field(default="", max_length=200)
    #: When the value may be read; omitted in a scheduled plan: the freeze + read_delay_hours.
    read_after: datetime | None = None
    read_delay_hours: int = Field(default=24, ge=1, le=24 * 31)

    @field_validator("read_after")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give the time zone, e.g. 2025-03-01T21:30:00+08:00")
        return value

    def to_domain(self, frozen_at: datetime) -> PublicSource:
        """The frozen record's source for a freeze at `frozen_at`."""
        when = self.read_after or frozen_at + timedelta(hours=self.read_delay_hours)
        return PublicSource(self.kind, self.name, self.round, when)


class ScopeSpec(_Strict):
    """Counties and sectors in scope (empty = all)."""

    counties: list[str] = Field(default_factory=list)
    sectors: list[str] = Field(default_factory=list)


class TeamSpec(_Strict):
    """Team composition."""

    size: int | None = Field(default=None, ge=2)
    departments: list[str] = Field(min_length=1)
    quotas: list[int] | None = None
    experts: int | None = Field(default=None, ge=0)


class ExcludedSpec(_Strict):
    """An enterprise the plan excludes, with a reason code (published) and a note (never)."""

    code: str
    reason: str = Field(min_length=1)
    note: str = ""

    @field_validator("reason")
    @classmethod
    def _code(cls, value: str) -> str:
        if value not in EXCLUSION_REASONS:
            raise ValueError(
                f"reason must be one of the codes {', '.join(EXCLUSION_REASONS)}; "
                "put any explanation in note (it is never published)"
            )
        return value


class ExclusionsSpec(_Strict):
    """Exclusions: the shutdown policy and listed enterprises."""

    shutdown_policy: ShutdownPolicy | None = None
    shutdown_states: list[str] | None = None
    enterprises: list[ExcludedSpec] = Field(default_factory=list)


class ScheduleSpec(_Strict):
    """A cron schedule in the bureau's zone."""

    cron: str
    timezone: str = "Asia/Shanghai"
    window_days: int = Field(default=30, ge=1, le=366)
    period_format: str = "%Y-%m"
    public_value: PublicValueSource = PublicValueSource.NONE


class PlanFile(_Strict):
    """A plan as written in plan.yaml; omitted values come from the sampling policy."""

    plan_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    title: str = ""
    period: PeriodSpec | str | None = None
    public_value: PublicSourceSpec | None = None
    scope: ScopeSpec = Field(default_factory=ScopeSpec)
    mode: DrawMode = DrawMode.RANDOM
    fixed_list: list[str] = Field(default_factory=list)
    strata: list[StratumSpec] | None = None
    yearly_cap: int | None = Field(default=None, ge=1)
    cooldown_days: int | None = Field(default=None, ge=0)
    team: TeamSpec
    workload_cap: int | None = Field(default=None, ge=1)
    own_county_rule: bool | None = None
    exclusions: ExclusionsSpec = Field(default_factory=ExclusionsSpec)
    schedule: ScheduleSpec | None = None

    @field_validator("period")
    @classmethod
    def _period(cls, value: PeriodSpec | str | None) -> PeriodSpec | str | None:
        if isinstance(value, str):
            try:
                period_window(value)
            except ValidationFailed as exc:
                raise ValueError(
                    f"{exc.message}; write a month 2025-03 or a range 2025-03-01/2025-03-20"
                ) from exc
        return value

    def window(self) -> tuple[date, date] | None:
        """The period's first and last day, if the file names one."""
        if isinstance(self.period, str):
            return period_window(self.period)
        return (self.period.start, self.period.end) if self.period else None

    def period_label(self) -> str | None:
        """The canonical period label (`2025-03`, or `2025-03-01/2025-03-20`)."""
        window = self.window()
        return period_label(*window) if window else None

    def to_plan(self, policy: SamplingPolicy) -> Plan:
        """The domain plan; its rules carry this file's period (or a placeholder set per period)."""
        d = policy.defaults
        size = self.team.size or d.team_size.value
        quotas = (
            tuple(self.team.quotas)
            if self.team.quotas
            else even_quotas(size, len(self.team.departments))
        )
        window = self.window()
        start, end = window if window else (date(1970, 1, 1), date(1970, 1, 1))
        rules = DrawRules(
            period_start=start,
            period_end=end,
            counties=tuple(self.scope.counties),
            sectors=tuple(self.scope.sectors),
            mode=self.mode,
            fixed_list=tuple(EnterpriseCode(c) for c in self.fixed_list),
            strata=tuple(s.to_domain() for s in self.strata)
            if self.strata is not None
            else policy.default_strata(),
            yearly_cap=self.yearly_cap or d.yearly_cap.value,
            cooldown_days=d.cooldown_days.value
            if self.cooldown_days is None
            else self.cooldown_days,
            team=TeamRule(
                size=size,
                departments=tuple(self.team.departments),
                quotas=quotas,
                experts=d.experts_per_team.value
                if self.team.experts is None
                else self.team.experts,
            ),
            workload_cap=self.workload_cap or d.workload_cap.value,
            own_county_rule=d.own_county_rule.value
            if self.own_county_rule is None
            else self.own_county_rule,
            shutdown_policy=self.exclusions.shutdown_policy or d.shutdown_policy.value,
            shutdown_states=tuple(
                self.exclusions.shutdown_states
                if self.exclusions.shutdown_states is not None
                else d.shutdown_states.value
            ),
            excluded=tuple((EnterpriseCode(e.code), e.reason) for e in self.exclusions.enterprises),
        )
        schedule = None
        if self.schedule:
            s = self.schedule
            schedule = Schedule(s.cron, s.timezone, s.window_days, s.period_format, s.public_value)
        return Plan(PlanId(self.plan_id), self.title, check_rules(rules), schedule)


def parse_plan_spec(text: str) -> PlanFile:
    """Parse plan.yaml text; ValidationFailed names every problem."""
    try:
        return PlanFile.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise ValidationFailed(msg("plan.file_not_yaml", exc=exc)) from exc
    except ValidationError as exc:
        raise ValidationFailed(msg("plan.file_invalid", exc=_problems(exc))) from exc


def parse_plan_file(text: str, policy: SamplingPolicy) -> tuple[Plan, str | None]:
    """Parse plan.yaml text into (plan, period label); ValidationFailed names every problem."""
    spec = parse_plan_spec(text)
    return spec.to_plan(policy), spec.period_label()
