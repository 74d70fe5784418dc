"""HTTP shapes of plans and draws, shared by the staff routes and the public ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from domain.draw import parse_secret
from domain.draw.public_value import PublicSource, period_label
from domain.draw.verifier import REPEAT_REASONS
from domain.errors import ValidationFailed
from domain.i18n import msg
from storage.draws import DrawRecord, Exclusion, Selection, StoredPlan
from storage.inspection_results import OfficerName


class PlanOut(BaseModel):
    """A stored plan: the submitted spec and its schedule."""

    plan_id: str
    title: str
    spec: dict[str, Any]
    cron: str | None = None
    timezone: str
    window_days: int
    period_format: str
    public_value_source: str
    active: bool
    created_at: datetime
    updated_at: datetime


class PeriodIn(BaseModel):
    """The window a draw is for (one draw per plan and window); its label is derived."""

    model_config = ConfigDict(extra="forbid")
    label: str | None = Field(default=None, max_length=21, description="derived; checked if given")
    start: date
    end: date

    @model_validator(mode="after")
    def _window(self) -> PeriodIn:
        if self.end < self.start:
            raise ValueError("期次结束日期早于开始日期 (the period ends before it starts)")
        if self.label is not None and self.label != period_label(self.start, self.end):
            raise ValueError(
                f"期次标签应为 {period_label(self.start, self.end)} (the window's label)"
            )
        return self


class PublicSourceIn(BaseModel):
    """Where the draw's public value will come from, named before anyone can know it."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["lottery", "beacon"]
    name: str = Field(min_length=1, max_length=200, description="e.g. 中国福利彩票双色球")
    round: str = Field(default="", max_length=200, description="issue or round; '' = first after")
    read_after: AwareDatetime

    def to_domain(self) -> PublicSource:
        """The frozen record's source."""
        return PublicSource(self.kind, self.name, self.round, self.read_after)


class WitnessIn(BaseModel):
    """A witness's commitment at freeze: a label (no name) and hex SHA-256 of 32 secret bytes."""

    model_config = ConfigDict(extra="forbid")
    label: str = Field(pattern=r"^[a-z0-9_-]{1,32}$", examples=["notary"])
    commitment: str = Field(pattern=r"^[0-9a-f]{64}$")


class RepeatIn(BaseModel):
    """A supervisor's reason to draw a window again (the code is published, the note is not)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(description=f"one of {', '.join(REPEAT_REASONS)}")
    note: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _code(self) -> RepeatIn:
        if self.reason not in REPEAT_REASONS:
            raise ValueError(f"重抽理由代码须为 {', '.join(REPEAT_REASONS)} 之一")
        return self


class DrawRequest(BaseModel):
    """Run a draw now, or only freeze the period (for a later witnessed draw)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"period": {"label": "2026-12", "start": "2026-12-01",
                                     "end": "2026-12-31"}, "public_value": "03 17 22 28 31"}]
        },
    )  # fmt: skip
    period: PeriodIn | None = Field(default=None, description="default: from today, per plan")
    public_value: str = Field(default="", max_length=200, description="e.g. lottery numbers")
    freeze_only: bool = False
    public_source: PublicSourceIn | None = Field(default=None, description="default: the plan's")
    witnesses: list[WitnessIn] = Field(default_factory=list, max_length=10)
    repeat: RepeatIn | None = None


class PublicValueIn(BaseModel):
    """The public value read out at a witnessed session."""

    model_config = ConfigDict(extra="forbid")
    public_value: str = Field(max_length=200, description="'' only for a record without source")
    witness_secrets: list[str] = Field(default_factory=list, max_length=10)

    def witness_bytes(self) -> list[bytes]:
        """The witnesses' revealed secrets (64 hex digits each)."""
        try:
            return [parse_secret(w.strip().lower()) for w in self.witness_secrets]
        except ValidationFailed as exc:
            raise ValidationFailed(
                msg("draw.witness_key_format", reason=exc.catalogue or exc.message)
            ) from exc


class DrawSummary(BaseModel):
    """A draw's published metadata: commitment and hashes; the secret once drawn."""

    id: int
    plan_id: str
    period: str
    period_start: date
    period_end: date
    algorithm: str
    state: str
    frozen_at: datetime
    commitment: str
    hash_rules: str
    hash_enterprises: str
    hash_officers: str
    hash_eligibility: str
    drawn_at: datetime | None = None
    public_value: str | None = None
    seed: str | None = None
    secret: str | None = None
    status: str | None = None
    attempt: int = 1
    repeat_reason: str | None = None
    read_after: datetime | None = None
    public_source: dict[str, str] | None = None


class Person(BaseModel):
    """An officer or expert: the draw's pseudonym; name and certificate number only for staff,
    or publicly where the bureau's 行政执法公示 rules require it (a setting)."""

    pseudonym: str
    name: str
    certificate_no: str
    department: str
    expert: bool


class SelectedOut(BaseModel):
    """A selected enterprise, its stratum and rank, and its team (or why it has none)."""

    position: int
    credit_code: str
    name: str | None = None
    stratum: str
    rank: str
    staffed: bool
    leader: Person | None = None
    members: list[Person]
    experts: list[Person]
    unstaffed: list[dict[str, Any]]


class ExcludedOut(BaseModel):
    """An enterprise or officer left out of the draw, with the reason."""

    kind: str
    subject: str
    reason: str
    detail: str


class DrawDetail(DrawSummary):
    """A draw with its selections, teams and exclusions, and how to verify it."""

    selected: list[SelectedOut]
    excluded: list[ExcludedOut]
    document_url: str
    verifier_url: str = "/public/v1/verifier.py"


def plan_out(p: StoredPlan) -> PlanOut:
    """The HTTP shape of a plan."""
    return PlanOut(
        plan_id=p.plan_id,
        title=p.title,
        spec=p.spec,
        cron=p.cron,
        timezone=p.timezone,
        window_days=p.window_days,
        period_format=p.period_format,
        public_value_source=p.public_value_source,
        active=p.active,
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def summary(d: DrawRecord) -> DrawSummary:
    """The published metadata of a draw (the secret only once drawn, as stored)."""
    return DrawSummary(
        id=d.id,
        plan_id=d.plan_id,
        period=d.period,
        period_start=d.period_start,
        period_end=d.period_end,
        algorithm=d.algorithm,
        state=d.state,
        frozen_at=d.frozen_at,
        commitment=d.commitment,
        hash_rules=d.hash_rules,
        hash_enterprises=d.hash_enterprises,
        hash_officers=d.hash_officers,
        hash_eligibility=d.hash_eligibility,
        drawn_at=d.drawn_at,
        public_value=d.public_value,
        seed=d.seed,
        secret=d.secret if d.state == "drawn" else None,
        status=d.status,
        attempt=d.attempt,
        repeat_reason=d.repeat_reason,
        read_after=d.read_after,
        public_source=d.public_source,
    )


@dataclass(frozen=True, slots=True)
class People:
    """Who a draw names: officer id → directory entry and → the draw's pseudonym."""

    names: dict[str, OfficerName]
    alias: dict[str, str]
    #: Team members by name and certificate number (staff; or public 行政执法公示 setting).
    disclose: bool
    #: Staff only: also who is behind each excluded pseudonym.
    staff: bool = False

    def person(self, officer_id: str) -> Person:
        """One officer as shown: always the pseudonym; name and certificate if disclosed."""
        o = self.names.get(officer_id)
        alias = self.alias.get(officer_id, "")
        if o is None:
            return Person(pseudonym=alias, name="", certificate_no="", department="", expert=False)
        return Person(
            pseudonym=alias,
            name=o.name if self.disclose else "",
            certificate_no=o.certificate_no if self.disclose else "",
            department=o.department,
            expert=o.auxiliary,
        )


def detail(
    d: DrawRecord,
    selections: list[Selection],
    exclusions: list[Exclusion],
    people: People,
    *,
    document_url: str,
) -> DrawDetail:
    """A draw with its teams (pseudonyms; names where disclosed) and its exclusions."""
    names = people.names
    _person = people.person
    selected = [
        SelectedOut(
            position=s.position,
            credit_code=s.credit_code,
            name=s.name,
            stratum=s.stratum,
            rank=s.rank,
            staffed=s.staffed,
            leader=_person(s.leader) if s.leader else None,
            members=[_person(o) for o in s.officers if o != s.leader],
            experts=[_person(x) for x in s.experts],
            unstaffed=s.unstaffed,
        )
        for s in selections
    ]
    excluded = []
    officer_of = {a: o for o, a in people.alias.items()}
    for e in exclusions:
        subject = e.subject
        if e.kind == "officer" and people.disclose and e.subject in officer_of:
            o = names.get(officer_of[e.subject])  # staff view: who is behind the pseudonym
            subject = (
                f"{e.subject} {o.name}（{o.certificate_no or o.department}）" if o else subject
            )
        excluded.append(ExcludedOut(kind=e.kind, subject=subject, reason=e.reason, detail=e.detail))
    return DrawDetail(
        **summary(d).model_dump(), selected=selected, excluded=excluded, document_url=document_url
    )


def people_of(selections: list[Selection], exclusions: list[Exclusion]) -> list[str]:
    """Every officer id a draw's detail mentions (version-1 exclusions name ids directly)."""
    ids = {x for s in selections for x in (*s.officers, *s.experts, s.leader or "") if x}
    ids |= {e.subject for e in exclusions if e.kind == "officer"}
    return sorted(ids)


def audit_summary(d: DrawRecord) -> dict[str, Any]:
    """What the audit log keeps of a draw: its summary without the secret."""
    return summary(d).model_dump(mode="json", exclude={"secret"})
