"""What a batch of the ingest carries around: caches, accumulated work, the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from domain.monitoring import AlarmAction, RuleOutcome
from domain.telemetry import TagLimits
from monitor.parse import Inbound, Refused
from storage.live import Change


@dataclass
class Caches:
    """What the ingest keeps in memory between batches (refreshed from the database)."""

    known: set[str] = field(default_factory=set)
    registry: dict[tuple[str, str], TagLimits] = field(default_factory=dict)
    registered: dict[str, frozenset[str]] = field(default_factory=dict)
    stale_open: set[tuple[str, str]] = field(default_factory=set)
    offline_open: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What one batch stored."""

    refused: list[Refused]
    events: int
    duplicates: int
    points: int
    alarms_changed: int
    #: The redelivered messages themselves (for the sandbox's receipts).
    duplicate_msgs: list[Inbound] = field(default_factory=list)


@dataclass
class Work:
    """What a batch accumulates: alarm actions in order, live changes, refusals, days to
    cross-check."""

    actions: list[AlarmAction] = field(default_factory=list)
    live: list[Change] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    days: set[tuple[str, date]] = field(default_factory=set)
    duplicates: list[Inbound] = field(default_factory=list)

    def add(self, outcome: RuleOutcome) -> None:
        """Append a rule outcome's actions."""
        self.actions.extend(outcome.actions)
