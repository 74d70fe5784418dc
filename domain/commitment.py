"""The daily risk commitment (安全风险研判与承诺公告) and its cross-check against reported facts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from domain.alarms import Rule
from domain.i18n import Message, msg, op_label
from domain.monitoring import NOTHING, EnterpriseId, RuleOutcome, clear_one, raise_one

#: Key of a planned count: (op_type, grade or None for "any grade").
OpKey = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class Commitment:
    """One day's commitment as published by the enterprise's principal."""

    enterprise_id: EnterpriseId
    day: date
    units_total: int
    units_running: int
    units_stopped: int
    special_ops: Mapping[OpKey, int]
    maintenance: int
    contractor_work: int
    trial_production: bool
    startup_shutdown: bool
    risk_level: int
    committed_by: str
    committed_at: datetime


@dataclass(frozen=True, slots=True)
class Actuals:
    """What the enterprise actually reported for that day."""

    special_ops: Mapping[tuple[str, str | None], int] = field(default_factory=dict)
    maintenance_started: int = 0
    trial_open: bool = False
    startup_shutdown_events: int = 0


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One difference between the commitment and the facts."""

    item: str
    committed: int | bool
    actual: int | bool


def cross_check(c: Commitment, a: Actuals) -> list[Mismatch]:
    """Differences that matter: more or other work than committed, or undeclared conditions.

    Doing less than planned is not a mismatch (work gets cancelled); doing more is, because the
    commitment is what duty staff rely on to know what is going on at the site.
    """
    out: list[Mismatch] = []
    by_type_planned: dict[str, int] = {}
    by_type_any: set[str] = set()
    for (op_type, grade), n in c.special_ops.items():
        by_type_planned[op_type] = by_type_planned.get(op_type, 0) + n
        if grade is None:
            by_type_any.add(op_type)
    by_type_actual: dict[str, int] = {}
    for (op_type, _), n in a.special_ops.items():
        by_type_actual[op_type] = by_type_actual.get(op_type, 0) + n
    for op_type, n in sorted(by_type_actual.items()):
        planned = by_type_planned.get(op_type, 0)
        if n > planned:
            out.append(Mismatch(f"special_ops.{op_type}", planned, n))
            continue
        if op_type in by_type_any:
            continue
        for (t, grade), m in sorted(
            a.special_ops.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
        ):
            if t != op_type:
                continue
            planned_g = c.special_ops.get((t, grade), 0)
            if m > planned_g:
                out.append(Mismatch(f"special_ops.{t}.{grade}", planned_g, m))
    if a.maintenance_started > c.maintenance:
        out.append(Mismatch("maintenance", c.maintenance, a.maintenance_started))
    if a.trial_open and not c.trial_production:
        out.append(Mismatch("trial_production", False, True))
    if a.startup_shutdown_events and not c.startup_shutdown:
        out.append(Mismatch("startup_shutdown", False, True))
    return out


def mismatch_outcome(c: Commitment, mismatches: list[Mismatch], at: datetime) -> RuleOutcome:
    """One data-quality alarm per enterprise and day listing every mismatch; cleared if none."""
    subject = f"day:{c.day.isoformat()}"
    if not mismatches:
        return clear_one(c.enterprise_id, Rule.COMMITMENT_MISMATCH, subject, at=at)
    return raise_one(
        c.enterprise_id,
        Rule.COMMITMENT_MISMATCH,
        subject,
        msg(
            "alarm.commitment_mismatch",
            day=c.day,
            items=[_mismatch_message(m) for m in mismatches],
        ),
        at=at,
        day=c.day.isoformat(),
        mismatches=[
            {"item": m.item, "committed": m.committed, "actual": m.actual} for m in mismatches
        ],
    )


def missing_outcome(ent: EnterpriseId, day: date, due: datetime, now: datetime) -> RuleOutcome:
    """No commitment for `day` by its due time."""
    if now < due:
        return NOTHING
    return raise_one(
        ent,
        Rule.COMMITMENT_MISSING,
        f"day:{day.isoformat()}",
        msg("alarm.commitment_missing", day=day, due=due),
        at=now,
        day=day.isoformat(),
        due=due.isoformat(),
    )


def _mismatch_message(m: Mismatch) -> Message:
    """One mismatch as a catalogue message: special_ops.<type>[.<grade>] or a named item."""
    kind, _, rest = m.item.partition(".")
    if kind == "special_ops":
        op_type, _, grade = rest.partition(".")
        return msg(
            "alarm.commitment_mismatch.op_item",
            op=op_label(op_type, grade or None),
            committed=m.committed,
            actual=m.actual,
        )
    return msg(
        "alarm.commitment_mismatch.item", item=m.item, committed=m.committed, actual=m.actual
    )
