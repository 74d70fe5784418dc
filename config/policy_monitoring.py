"""Loading the monitoring policy files (special operations, alarm rules, monitoring limits)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from config.policy_calendar import load_work_calendar
from config.policy_files import load_yaml
from config.policy_special_ops import SpecialOpsFile
from domain.alarms import Rule, RuleSpec
from domain.errors import ConfigurationError
from domain.monitoring import Severity
from domain.special_ops import SpecialOpsPolicy
from domain.status import TrialPolicy
from domain.telemetry import LevelSeverities
from domain.work_calendar import WorkCalendar


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Source = Field(min_length=3)


class RuleFile(_Strict):
    """One rule in alarm_rules.yaml."""

    title: str
    severity: Severity
    ack_within_min: int = Field(ge=1, le=7 * 24 * 60)
    escalate_every_min: int = Field(ge=1, le=7 * 24 * 60)
    max_escalations: int = Field(ge=0, le=10)
    category: Literal["safety", "compliance", "data_quality", "connectivity"]
    source: str = Source


class LevelsFile(_Strict):
    """telemetry_levels in alarm_rules.yaml."""

    hh_ll: Severity
    h_l: Severity
    source: str = Source


class AlarmRulesFile(_Strict):
    """alarm_rules.yaml."""

    version: Literal[1]
    scale_source: str = Source
    rules: dict[str, RuleFile]
    telemetry_levels: LevelsFile
    cause_categories: dict[str, str] = Field(min_length=2)

    @model_validator(mode="after")
    def _complete(self) -> AlarmRulesFile:
        missing = sorted(r.value for r in Rule if r.value not in self.rules)
        unknown = sorted(set(self.rules) - {r.value for r in Rule})
        if missing or unknown:
            raise ValueError(f"rules missing {missing}, unknown {unknown}")
        return self


class IngestFile(_Strict):
    """ingest in monitoring.yaml."""

    max_payload_bytes: int = Field(ge=1024, le=16 * 1024 * 1024)
    max_payload_source: str = Source
    max_future_skew_s: int = Field(ge=0, le=24 * 3600)
    future_skew_source: str = Source
    rejected_excerpt_bytes: int = Field(ge=64, le=65536)
    excerpt_source: str = Source
    planning_horizon_days: int = Field(ge=1, le=3660)
    planning_horizon_source: str = Source
    max_permit_days: int = Field(ge=1, le=366)
    max_permit_source: str = Source
    max_abs_value: float = Field(gt=0, le=1e15)
    max_abs_value_source: str = Source
    max_open_maintenance: int = Field(ge=1, le=10000)
    max_open_maintenance_source: str = Source


class TrialFile(_Strict):
    """trial_production in monitoring.yaml."""

    min_days: int = Field(ge=1)
    max_days: int = Field(ge=1)
    source: str = Source


class CommitmentFile(_Strict):
    """commitment in monitoring.yaml."""

    due_time: str
    source: str = Source

    @field_validator("due_time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("due_time must be HH:MM (24 h)")
        return value


class DownlinkFile(_Strict):
    """downlink in monitoring.yaml."""

    retry_first_s: int = Field(ge=1)
    retry_max_s: int = Field(ge=1)
    guidance_ttl_h: int = Field(ge=1)
    notice_ttl_h: int = Field(ge=1)
    source: str = Source


class TelemetryFile(_Strict):
    """telemetry in monitoring.yaml."""

    default_stale_after_s: int = Field(ge=10)
    source: str = Source


class OrderingFile(_Strict):
    """ordering in monitoring.yaml (event-time order, docs/architecture.md)."""

    replay_horizon_h: int = Field(ge=1, le=24 * 30)
    source: str = Source


class MonitoringFile(_Strict):
    """monitoring.yaml."""

    version: Literal[1]
    ingest: IngestFile
    trial_production: TrialFile
    commitment: CommitmentFile
    downlink: DownlinkFile
    telemetry: TelemetryFile
    ordering: OrderingFile


@dataclass(frozen=True, slots=True)
class MonitoringPolicy:
    """Everything monitoring reads from the policy directory, validated."""

    special_ops: SpecialOpsPolicy
    calendar: WorkCalendar
    rules: dict[str, RuleSpec]
    causes: dict[str, str]
    levels: LevelSeverities
    trial: TrialPolicy
    max_payload_bytes: int
    max_future_skew: timedelta
    rejected_excerpt_bytes: int
    planning_horizon: timedelta
    max_permit: timedelta
    max_abs_value: float
    #: Open maintenance jobs one enterprise may hold (a start of a new one beyond is refused).
    max_open_maintenance: int
    commitment_due: time
    retry_first: timedelta
    retry_max: timedelta
    guidance_ttl: timedelta
    notice_ttl: timedelta
    default_stale_after: timedelta
    replay_horizon: timedelta

    def rule(self, name: str) -> RuleSpec:
        """The spec of one rule."""
        return self.rules[name]


def load_monitoring_policy(policy_dir: Path) -> MonitoringPolicy:
    """Read and validate the four files; ConfigurationError names the file and the problem."""
    calendar = load_work_calendar(policy_dir)
    ops = load_yaml(policy_dir / "special_operations.yaml", SpecialOpsFile)
    rules = load_yaml(policy_dir / "alarm_rules.yaml", AlarmRulesFile)
    mon = load_yaml(policy_dir / "monitoring.yaml", MonitoringFile)
    if mon.trial_production.min_days > mon.trial_production.max_days:
        raise ConfigurationError("monitoring.yaml: trial_production.min_days > max_days")
    hh, mm = (int(p) for p in mon.commitment.due_time.split(":"))
    return MonitoringPolicy(
        special_ops=ops.as_domain(calendar),
        calendar=calendar,
        rules={
            name: RuleSpec(
                rule=name,
                title=r.title,
                severity=r.severity,
                ack_within=timedelta(minutes=r.ack_within_min),
                escalate_every=timedelta(minutes=r.escalate_every_min),
                max_escalations=r.max_escalations,
                category=r.category,
            )
            for name, r in rules.rules.items()
        },
        causes=dict(rules.cause_categories),
        levels=LevelSeverities(hh_ll=rules.telemetry_levels.hh_ll, h_l=rules.telemetry_levels.h_l),
        trial=TrialPolicy(mon.trial_production.min_days, mon.trial_production.max_days),
        max_payload_bytes=mon.ingest.max_payload_bytes,
        max_future_skew=timedelta(seconds=mon.ingest.max_future_skew_s),
        rejected_excerpt_bytes=mon.ingest.rejected_excerpt_bytes,
        planning_horizon=timedelta(days=mon.ingest.planning_horizon_days),
        max_permit=timedelta(days=mon.ingest.max_permit_days),
        max_abs_value=mon.ingest.max_abs_value,
        max_open_maintenance=mon.ingest.max_open_maintenance,
        commitment_due=time(hh, mm),
        retry_first=timedelta(seconds=mon.downlink.retry_first_s),
        retry_max=timedelta(seconds=mon.downlink.retry_max_s),
        guidance_ttl=timedelta(hours=mon.downlink.guidance_ttl_h),
        notice_ttl=timedelta(hours=mon.downlink.notice_ttl_h),
        default_stale_after=timedelta(seconds=mon.telemetry.default_stale_after_s),
        replay_horizon=timedelta(hours=mon.ordering.replay_horizon_h),
    )
