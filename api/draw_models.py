"""HTTP shapes of plans and draws, shared by the staff routes and the public ones."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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
    """The period a draw is for: its label (unique per plan) and the inspection window."""

    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    start: date
    end: date


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


class PublicValueIn(BaseModel):
    """The public value read out at a witnessed session."""

    model_config = ConfigDict(extra="forbid")
    public_value: str = Field(min_length=1, max_length=200)


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


class Person(BaseModel):
    """An officer or expert as published: name and certificate number (and department)."""

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
    )


def _person(officer_id: str, names: dict[str, OfficerName]) -> Person:
    o = names.get(officer_id)
    if o is None:
        return Person(name="?", certificate_no="", department="", expert=False)
    return Person(
        name=o.name, certificate_no=o.certificate_no, department=o.department, expert=o.auxiliary
    )


def detail(
    d: DrawRecord,
    selections: list[Selection],
    exclusions: list[Exclusion],
    names: dict[str, OfficerName],
    *,
    document_url: str,
) -> DrawDetail:
    """A draw with teams shown by name and certificate number; officer exclusions likewise."""
    selected = [
        SelectedOut(
            position=s.position,
            credit_code=s.credit_code,
            name=s.name,
            stratum=s.stratum,
            rank=s.rank,
            staffed=s.staffed,
            leader=_person(s.leader, names) if s.leader else None,
            members=[_person(o, names) for o in s.officers if o != s.leader],
            experts=[_person(x, names) for x in s.experts],
            unstaffed=s.unstaffed,
        )
        for s in selections
    ]
    excluded = []
    for e in exclusions:
        subject = e.subject
        if e.kind == "officer":
            p = _person(e.subject, names)
            subject = f"{p.name}（{p.certificate_no or p.department}）"
        excluded.append(ExcludedOut(kind=e.kind, subject=subject, reason=e.reason, detail=e.detail))
    return DrawDetail(
        **summary(d).model_dump(), selected=selected, excluded=excluded, document_url=document_url
    )


def people_of(selections: list[Selection], exclusions: list[Exclusion]) -> list[str]:
    """Every officer id a draw's detail mentions."""
    ids = {x for s in selections for x in (*s.officers, *s.experts, s.leader or "") if x}
    ids |= {e.subject for e in exclusions if e.kind == "officer"}
    return sorted(ids)


def audit_summary(d: DrawRecord) -> dict[str, Any]:
    """What the audit log keeps of a draw: its summary without the secret."""
    return summary(d).model_dump(mode="json", exclude={"secret"})
