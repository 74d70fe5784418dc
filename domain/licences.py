"""Licence renewal reminders (measure 20): stages in calendar months, texts naming the renewal
procedure and conditions of each licence type (config/licence_renewal.yaml). Pure."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from domain.i18n import Message, msg, render
from domain.reminders import Reminder

#: The statute's minimum: 《安全生产许可证条例》第九条, apply 3 months before expiry.
STATUTORY_APPLY_MONTHS = 3
STAGES = ("first", "deadline", "last", "expired")


@dataclass(frozen=True, slots=True)
class RenewalRule:
    """How one licence type is renewed (one entry of licence_renewal.yaml)."""

    authority: str
    apply_months: int
    basis: str
    procedure: str
    conditions: str
    after_expiry: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RenewalSchedule:
    """When licence reminders go out, and each type's renewal rule."""

    first_months: int
    last_months: int
    types: Mapping[str, RenewalRule]
    default: RenewalRule

    def rule(self, kind: str) -> RenewalRule:
        """The rule of a licence type (the default for a type the file does not name)."""
        return self.types.get(kind, self.default)


@dataclass(frozen=True, slots=True)
class Licence:
    """A licence as stored on the enterprise (`kind`, `number`, `valid_to`)."""

    enterprise_id: str
    kind: str
    number: str
    valid_to: date

    @property
    def subject(self) -> str:
        """The reminder subject: one per enterprise, type and number."""
        return f"{self.enterprise_id}:{self.kind}:{self.number}"


@dataclass(frozen=True, slots=True)
class Stage:
    """The stage a licence is in on a day, and the day it began."""

    name: str
    since: date


def add_months(d: date, months: int) -> date:
    """`d` moved by whole calendar months, clamped to the month's last day (08-31 − 6 → 02-28)."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(d.day, last))


def deadline(valid_to: date, rule: RenewalRule) -> date:
    """The last day to apply for renewal: `apply_months` calendar months before expiry."""
    return add_months(valid_to, -rule.apply_months)


def stage_starts(valid_to: date, rule: RenewalRule, schedule: RenewalSchedule) -> list[Stage]:
    """Every stage of a licence with the day it begins, in order."""
    return [
        Stage("first", add_months(valid_to, -schedule.first_months)),
        Stage("deadline", deadline(valid_to, rule)),
        Stage("last", add_months(valid_to, -schedule.last_months)),
        Stage("expired", valid_to + timedelta(days=1)),
    ]


def stage_on(valid_to: date, today: date, rule: RenewalRule, schedule: RenewalSchedule) -> Stage:
    """The latest stage begun by `today` ('none' before the first): a missed day catches up
    with the current stage only, never with stale texts of earlier ones."""
    current = Stage("none", date.min)
    for s in stage_starts(valid_to, rule, schedule):
        if s.since <= today:
            current = s
    return current


def parse(enterprise_id: str, raw: Mapping[str, Any]) -> Licence | None:
    """A stored licence (None when it has no valid `valid_to`). The type is stored under `kind`
    (api/enterprise_models.Licence); rows written before that under `type` still read."""
    try:
        valid_to = date.fromisoformat(str(raw["valid_to"]))
    except (KeyError, ValueError):
        return None
    kind = str(raw.get("kind") or raw.get("type") or "许可证")
    return Licence(enterprise_id, kind, str(raw.get("number", "")), valid_to)


def text(lic: Licence, stage: str, today: date, schedule: RenewalSchedule) -> Message:
    """The reminder's text at a stage: dates, the authority, procedure, conditions, sanctions."""
    rule = schedule.rule(lic.kind)
    return msg(
        f"licence.{stage}",
        kind=lic.kind,
        number=lic.number,
        valid_to=lic.valid_to,
        deadline=deadline(lic.valid_to, rule),
        months=rule.apply_months,
        days=(lic.valid_to - today).days,
        authority=rule.authority,
        basis=rule.basis,
        procedure=rule.procedure,
        conditions=rule.conditions,
        after_expiry=rule.after_expiry,
    )


def licence_reminders(
    enterprise_id: str,
    licences: Iterable[Mapping[str, Any]],
    *,
    today: date,
    schedule: RenewalSchedule,
) -> list[Reminder]:
    """The reminder of each licence's current stage (sent once: kind, subject, due, stage)."""
    out = []
    for raw in licences:
        lic = parse(enterprise_id, raw)
        if lic is None:
            continue
        stage = stage_on(lic.valid_to, today, schedule.rule(lic.kind), schedule)
        if stage.name == "none":
            continue
        out.append(
            Reminder(
                "licence_expiry",
                lic.subject,
                enterprise_id,
                lic.valid_to,
                stage.name,
                render(text(lic, stage.name, today, schedule)),
            )
        )
    return out
