"""Shared vocabulary of remote monitoring: ids, alarm severities and what rules emit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NewType

from domain.i18n import Message

EnterpriseId = NewType("EnterpriseId", str)
AlarmId = NewType("AlarmId", int)
OpId = NewType("OpId", str)


class Severity(StrEnum):
    """Alarm severity on the four-colour scale (红/橙/黄/蓝), most severe first."""

    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"

    @property
    def rank(self) -> int:
        """4 for red down to 1 for blue."""
        return _RANK[self]

    @property
    def label_zh(self) -> str:
        """The Chinese colour name."""
        return _ZH[self]

    def raised(self, steps: int = 1) -> Severity:
        """The severity `steps` levels higher, capped at red."""
        return _BY_RANK[min(4, self.rank + steps)]

    @staticmethod
    def highest(a: Severity, b: Severity) -> Severity:
        """The more severe of two severities."""
        return a if a.rank >= b.rank else b


_RANK = {Severity.RED: 4, Severity.ORANGE: 3, Severity.YELLOW: 2, Severity.BLUE: 1}
_BY_RANK = {v: k for k, v in _RANK.items()}
_ZH = {Severity.RED: "红", Severity.ORANGE: "橙", Severity.YELLOW: "黄", Severity.BLUE: "蓝"}


@dataclass(frozen=True, slots=True)
class AlarmKey:
    """What makes an alarm unique while it is open: (enterprise, rule, subject)."""

    enterprise_id: EnterpriseId
    rule: str
    subject: str


@dataclass(frozen=True, slots=True)
class AlarmRaise:
    """A rule fired: open an alarm, or update the open one with the same key.

    `severity` None means "the rule's configured severity"; rules whose severity depends on the
    reading (telemetry HH vs H) set it. `message` is a catalogue code with its parameters: the
    alarm's text is rendered from it (stored in zh-CN, shown in the reader's language).
    """

    key: AlarmKey
    message: Message
    evidence: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    severity: Severity | None = None


@dataclass(frozen=True, slots=True)
class AlarmClear:
    """The condition behind an alarm went away: mark it cleared (a person still closes it)."""

    key: AlarmKey
    at: datetime | None = None


AlarmAction = AlarmRaise | AlarmClear


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """What rule evaluations ask for, in order: alarms to raise and alarms whose condition
    cleared (the order matters: a clear followed by a raise of the same key leaves it raised)."""

    actions: tuple[AlarmAction, ...] = ()

    @property
    def raises(self) -> tuple[AlarmRaise, ...]:
        """The raises, in order."""
        return tuple(a for a in self.actions if isinstance(a, AlarmRaise))

    @property
    def clears(self) -> tuple[AlarmClear, ...]:
        """The clears, in order."""
        return tuple(a for a in self.actions if isinstance(a, AlarmClear))

    def __add__(self, other: RuleOutcome) -> RuleOutcome:
        return RuleOutcome(self.actions + other.actions)


NOTHING = RuleOutcome()


def raise_one(
    ent: EnterpriseId,
    rule: str,
    subject: str,
    message: Message,
    *,
    at: datetime | None = None,
    severity: Severity | None = None,
    **evidence: Any,
) -> RuleOutcome:
    """An outcome raising exactly one alarm."""
    return RuleOutcome((AlarmRaise(AlarmKey(ent, rule, subject), message, evidence, at, severity),))


def clear_one(
    ent: EnterpriseId, rule: str, subject: str, *, at: datetime | None = None
) -> RuleOutcome:
    """An outcome clearing exactly one alarm."""
    return RuleOutcome((AlarmClear(AlarmKey(ent, rule, subject), at),))
