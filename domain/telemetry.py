"""Telemetry thresholds (H/HH/L/LL) with deadband and delay, and stale-tag detection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.alarms import Rule
from domain.i18n import msg
from domain.monitoring import NOTHING, EnterpriseId, RuleOutcome, Severity, clear_one, raise_one


class Level(StrEnum):
    """Where a reading sits against the tag's limits."""

    NORMAL = "normal"
    H = "H"
    HH = "HH"
    L = "L"
    LL = "LL"

    @property
    def rank(self) -> int:
        """0 normal, 1 for H/L, 2 for HH/LL."""
        return {"normal": 0, "H": 1, "L": 1, "HH": 2, "LL": 2}[self.value]


@dataclass(frozen=True, slots=True)
class TagLimits:
    """A tag's registry entry as far as alarms are concerned."""

    hh: float | None = None
    h: float | None = None
    l: float | None = None  # noqa: E741 - the industry's name for the low limit
    ll: float | None = None
    deadband: float = 0.0
    delay_s: float = 0.0
    stale_after_s: float | None = None
    #: The measuring range (量程): values outside are refused at the ingest, not alarmed.
    range_min: float | None = None
    range_max: float | None = None

    def outside_range(self, value: float) -> bool:
        """Whether a reading lies outside the tag's measuring range (none set: never)."""
        return (self.range_min is not None and value < self.range_min) or (
            self.range_max is not None and value > self.range_max
        )

    @property
    def has_limits(self) -> bool:
        """Whether any threshold is set."""
        return any(v is not None for v in (self.hh, self.h, self.l, self.ll))


@dataclass(frozen=True, slots=True)
class TagState:
    """The alarmed level and a more severe level waiting for its delay to pass."""

    level: Level = Level.NORMAL
    pending: Level | None = None
    pending_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class LevelSeverities:
    """Alarm severity of each level (from config/alarm_rules.yaml)."""

    hh_ll: Severity
    h_l: Severity


def classify(limits: TagLimits, value: float, current: Level) -> Level:
    """The level of `value`, with hysteresis: leaving a level needs `deadband` past its limit."""
    db = limits.deadband

    def above(limit: float | None, held: bool) -> bool:
        return limit is not None and value >= (limit - db if held else limit)

    def below(limit: float | None, held: bool) -> bool:
        return limit is not None and value <= (limit + db if held else limit)

    if above(limits.hh, current is Level.HH):
        return Level.HH
    if below(limits.ll, current is Level.LL):
        return Level.LL
    if above(limits.h, current in (Level.H, Level.HH)):
        return Level.H
    if below(limits.l, current in (Level.L, Level.LL)):
        return Level.L
    return Level.NORMAL


def evaluate(
    limits: TagLimits, state: TagState, value: float, ts: datetime
) -> tuple[TagState, Level | None]:
    """Feed one reading; return the new state and the new alarmed level when it changed.

    A more severe level must hold for `delay_s` before it is alarmed; moving to a less severe
    level (after the deadband) takes effect at once.
    """
    raw = classify(limits, value, state.level)
    if raw == state.level:
        return (TagState(state.level) if state.pending else state), None
    if raw.rank < state.level.rank or (raw.rank == state.level.rank and raw is not state.level):
        return TagState(raw), raw
    if limits.delay_s <= 0:
        return TagState(raw), raw
    if state.pending is raw and state.pending_since is not None:
        if ts - state.pending_since >= timedelta(seconds=limits.delay_s):
            return TagState(raw), raw
        return state, None
    if state.pending is not None and state.pending.rank > raw.rank and state.pending_since:
        # HH pending fell back to H: H has been true since the HH started.
        since = state.pending_since
        if ts - since >= timedelta(seconds=limits.delay_s):
            return TagState(raw), raw
        return TagState(state.level, raw, since), None
    return TagState(state.level, raw, ts), None


def level_outcome(
    ent: EnterpriseId,
    tag: str,
    level: Level,
    value: float,
    limits: TagLimits,
    ts: datetime,
    severities: LevelSeverities,
) -> RuleOutcome:
    """The alarm for a level change: raise at H/HH/L/LL, clear when back to normal."""
    subject = f"tag:{tag}"
    if level is Level.NORMAL:
        return clear_one(ent, Rule.TELEMETRY_LIMIT, subject, at=ts)
    limit = {Level.HH: limits.hh, Level.H: limits.h, Level.L: limits.l, Level.LL: limits.ll}[level]
    severity = severities.hh_ll if level.rank == 2 else severities.h_l
    return raise_one(
        ent,
        Rule.TELEMETRY_LIMIT,
        subject,
        msg("alarm.telemetry_limit", tag=tag, value=value, level=level, limit=limit),
        at=ts,
        severity=severity,
        tag=tag,
        value=value,
        level=level.value,
        limit=limit,
    )


def stale_outcome(
    ent: EnterpriseId, tag: str, last_ts: datetime | None, stale_after: timedelta, now: datetime
) -> RuleOutcome:
    """A tag that stopped reporting."""
    if last_ts is not None and now - last_ts <= stale_after:
        return NOTHING
    seconds = int(stale_after.total_seconds())
    return raise_one(
        ent,
        Rule.TELEMETRY_STALE,
        f"tag:{tag}",
        msg("alarm.telemetry_stale.since", tag=tag, last=last_ts, seconds=seconds)
        if last_ts
        else msg("alarm.telemetry_stale.never", tag=tag, seconds=seconds),
        at=now,
        tag=tag,
        last_ts=last_ts.isoformat() if last_ts else None,
    )
