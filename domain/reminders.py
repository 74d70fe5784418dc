"""Reminders: rectification deadlines, end of penalty publication (licences: domain.licences);
pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class Reminder:
    """One reminder to send once (kind, subject, due, stage is its identity)."""

    kind: str
    subject: str
    enterprise_id: str | None
    due: date
    stage: str
    text: str


@dataclass(frozen=True, slots=True)
class OpenFinding:
    """A finding not yet rectified."""

    id: int
    enterprise_id: str
    item_code: str
    deadline: date


@dataclass(frozen=True, slots=True)
class PublishedPenalty:
    """Penalty information under publication."""

    id: int
    enterprise_id: str
    decision_no: str
    publish_until: date


def _stage(days_left: int, offsets: Sequence[int]) -> str | None:
    """The stage reached today: the smallest offset ≥ days_left (catching up missed runs)."""
    reached = [o for o in offsets if days_left <= o]
    if not reached:
        return None
    return f"d{min(reached)}"


def _days(n: int) -> str:
    if n > 0:
        return f"{n} 天后到期"
    if n == 0:
        return "今天到期"
    return f"已逾期 {-n} 天"


def rectification_reminders(
    findings: Iterable[OpenFinding], *, today: date, offsets: Sequence[int]
) -> list[Reminder]:
    """Reminders for rectification deadlines, before and after they pass."""
    out = []
    for f in findings:
        left = (f.deadline - today).days
        stage = _stage(left, offsets)
        if stage is None:
            continue
        out.append(
            Reminder(
                "rectification_deadline",
                f"finding:{f.id}",
                f.enterprise_id,
                f.deadline,
                stage,
                f"隐患整改（{f.item_code}）期限 {f.deadline.isoformat()}，{_days(left)}，"
                "请按期整改并报告。",
            )
        )
    return out


def penalty_reminders(
    penalties: Iterable[PublishedPenalty], *, today: date, offsets: Sequence[int]
) -> list[Reminder]:
    """Reminders to staff that a penalty's publication period ends."""
    out = []
    for p in penalties:
        left = (p.publish_until - today).days
        stage = _stage(left, offsets)
        if stage is None:
            continue
        out.append(
            Reminder(
                "penalty_expiry",
                f"penalty:{p.id}",
                p.enterprise_id,
                p.publish_until,
                stage,
                f"行政处罚信息（{p.decision_no}）公示期至 {p.publish_until.isoformat()}，"
                f"{_days(left)}。",
            )
        )
    return out


def expired(penalties: Iterable[PublishedPenalty], *, today: date) -> list[int]:
    """Ids of penalties whose publication period has ended (to withdraw)."""
    return [p.id for p in penalties if p.publish_until < today]


def window_end(today: date, offsets: Sequence[int]) -> date:
    """The last due date any reminder could concern today."""
    return today + timedelta(days=max(offsets))
