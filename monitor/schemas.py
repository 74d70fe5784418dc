"""Pydantic models of every uplink payload (the MQTT edge); they convert to domain objects."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    WithJsonSchema,
    model_validator,
)

from domain import special_ops as so
from domain import status as st
from domain.monitoring import OpId
from domain.special_ops import GRADES, OpType

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:[0-5]\d)$"
)
_EARLIEST = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
#: RFC 3339 allows any offset below 24 h, PostgreSQL stores at most ±15:59 and the zones in use
#: span −12:00 … +14:00 (IANA tz database); anything beyond ±14:00 is a broken clock or a probe.
MAX_OFFSET = timedelta(hours=14)


class TimestampError(ValueError):
    """A timestamp that is not RFC 3339 with an offset (reject code timestamp_invalid)."""


def _rfc3339(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TimestampError("timestamp must be an RFC 3339 string with an offset")
    if not _RFC3339.match(value):
        hint = " (no UTC offset)" if re.match(r"^\d{4}-\d{2}-\d{2}[Tt ][\d:.]+$", value) else ""
        raise TimestampError(f"timestamp {value[:40]!r} is not RFC 3339 with an offset{hint}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise TimestampError(f"timestamp {value[:40]!r} is not a valid date and time") from exc
    offset = parsed.utcoffset()
    if offset is None or abs(offset) > MAX_OFFSET:
        raise TimestampError(f"timestamp {value[:40]!r} has a UTC offset beyond ±14:00")
    if parsed < _EARLIEST:
        raise TimestampError(f"timestamp {value[:40]!r} is before 2000")
    return parsed


#: What the published JSON Schema says of a timestamp (the validator checks more: a real date,
#: the offset within ±14:00, not before 2000, not too far in the future).
TIMESTAMP_JSON_SCHEMA = {
    "type": "string",
    "format": "date-time",
    "pattern": _RFC3339.pattern,
    "description": "RFC 3339 with an offset (Z or ±hh:mm)",
}
Timestamp = Annotated[
    datetime, BeforeValidator(_rfc3339), WithJsonSchema(TIMESTAMP_JSON_SCHEMA, mode="validation")
]
Ident = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
Text = Annotated[str, Field(min_length=1, max_length=500)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Unit = Annotated[str, Field(min_length=1, max_length=64)]
Pct = Annotated[float, Field(ge=0, le=100)]


class Model(BaseModel):
    """Base of every uplink model."""

    # Unknown fields are ignored (the contract lets senders add optional fields); types are strict.
    model_config = ConfigDict(extra="ignore", strict=True, allow_inf_nan=False, frozen=True)


class EventBase(Model):
    """Fields every operation event has."""

    event_id: Ident
    ts: Timestamp
    type: str
    # Optional per-source sequence number: orders events of one source that share a timestamp
    # (docs/protocol.md "Event-time order").
    seq: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = None

    def timestamps(self) -> Iterator[datetime]:
        """Timestamps that must not lie in the future."""
        yield self.ts

    def planned(self) -> Iterator[tuple[str, datetime]]:
        """Planned times (field name, value) that must lie within the planning horizon."""
        return iter(())


class ShutdownEvent(EventBase):
    """停产."""

    type: Literal["shutdown"]
    scope: Literal["plant", "unit"]
    units: list[Unit] | None = None
    reason: Text
    planned_resume: Timestamp | None = None

    def planned(self) -> Iterator[tuple[str, datetime]]:
        """The planned resumption."""
        if self.planned_resume is not None:
            yield "planned_resume", self.planned_resume

    @model_validator(mode="after")
    def _units(self) -> ShutdownEvent:
        if self.scope == "unit" and not self.units:
            raise ValueError("scope 'unit' needs a non-empty units list")
        return self

    def to_domain(self) -> st.Shutdown:
        """The domain event."""
        return st.Shutdown(
            self.event_id,
            self.ts,
            st.Scope(self.scope),
            tuple(self.units or ()),
            self.reason,
            self.planned_resume,
        )


class SelfCheckItem(Model):
    """One line of the restart self-check."""

    item: Text
    ok: bool
    note: str | None = Field(default=None, max_length=500)


class ResumeRequestEvent(EventBase):
    """复产申请."""

    type: Literal["resume_request"]
    planned_at: Timestamp
    self_check: list[SelfCheckItem] = Field(min_length=1, max_length=200)

    def planned(self) -> Iterator[tuple[str, datetime]]:
        """The planned restart."""
        yield "planned_at", self.planned_at

    def to_domain(self) -> st.ResumeRequest:
        """The domain event."""
        failed = sum(1 for i in self.self_check if not i.ok)
        return st.ResumeRequest(self.event_id, self.ts, self.planned_at, failed)


class ResumeEvent(EventBase):
    """复产."""

    type: Literal["resume"]
    request_ref: Ident | None = None

    def to_domain(self) -> st.Resume:
        """The domain event."""
        return st.Resume(self.event_id, self.ts, self.request_ref)


class MaintenanceStartEvent(EventBase):
    """检维修开始."""

    type: Literal["maintenance_start"]
    maint_id: Ident
    scope: Literal["plant", "unit"]
    units: list[Unit] | None = None
    planned_end: Timestamp | None = None

    def planned(self) -> Iterator[tuple[str, datetime]]:
        """The planned end of the job."""
        if self.planned_end is not None:
            yield "planned_end", self.planned_end

    def to_domain(self) -> st.MaintenanceStart:
        """The domain event."""
        return st.MaintenanceStart(
            self.event_id,
            self.ts,
            self.maint_id,
            st.Scope(self.scope),
            tuple(self.units or ()),
            self.planned_end,
        )


class MaintenanceEndEvent(EventBase):
    """检维修结束."""

    type: Literal["maintenance_end"]
    maint_id: Ident
    scope: Literal["plant", "unit"] | None = None
    units: list[Unit] | None = None

    def to_domain(self) -> st.MaintenanceEnd:
        """The domain event."""
        return st.MaintenanceEnd(self.event_id, self.ts, self.maint_id)


class GasTestFields(Model):
    """Readings of a gas analysis (o2_pct in % vol, lel_pct in % LEL of `gas`, combustible_vol_pct
    in % vol; lel_vol_pct is the LEL of the measured gas in % vol)."""

    o2_pct: Pct | None = None
    lel_pct: Pct | None = None
    toxic_ppm: (
        dict[Annotated[str, Field(min_length=1, max_length=32)], Annotated[float, Field(ge=0)]]
        | None
    ) = None
    combustible_vol_pct: Pct | None = None
    lel_vol_pct: Annotated[float, Field(gt=0, le=100)] | None = None
    analyst: Name | None = None
    gas: Annotated[str, Field(min_length=1, max_length=32)] | None = None

    @model_validator(mode="after")
    def _some_reading(self) -> GasTestFields:
        if (
            self.o2_pct is None
            and self.lel_pct is None
            and not self.toxic_ppm
            and self.combustible_vol_pct is None
        ):
            raise ValueError("a gas analysis needs at least one reading")
        if self.lel_pct is not None and self.gas is None and self.lel_vol_pct is None:
            # GB 30871-2022 5.3.2 judges by volume: a % LEL figure means nothing without the gas.
            raise ValueError(
                "可燃气体读数 lel_pct（%LEL）须同时报送气体名称 gas 或其爆炸下限 lel_vol_pct，"
                "否则无法按体积分数判定（GB 30871-2022 5.3.2）"
            )
        return self

    def reading(self, ts: datetime) -> so.GasReading:
        """The domain reading taken at `ts`."""
        return so.GasReading(
            ts=ts,
            o2_pct=self.o2_pct,
            lel_pct=self.lel_pct,
            toxic_ppm=dict(self.toxic_ppm) if self.toxic_ppm else None,
            combustible_vol_pct=self.combustible_vol_pct,
            lel_vol_pct=self.lel_vol_pct,
            analyst=self.analyst,
            gas=self.gas,
        )


class EmbeddedGasTest(GasTestFields):
    """A gas analysis sent inside special_op_start (its own ts, else the start's)."""

    ts: Timestamp | None = None


class SpecialOpStartEvent(EventBase):
    """特殊作业开始."""

    type: Literal["special_op_start"]
    op_id: Ident
    op_type: OpType
    grade: Literal["special", "1", "2", "3", "I", "II", "III", "IV"] | None = None
    permit_no: Annotated[str, Field(min_length=1, max_length=64)]
    valid_from: Timestamp
    valid_to: Timestamp
    location: Text
    guardian: Annotated[str, Field(max_length=100)] | None = None
    guardian_cert: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    gas_test: EmbeddedGasTest | None = None
    oxygen_enriched: bool = False
    camera: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    serves_op: Ident | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SpecialOpStartEvent:
        if self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        allowed = GRADES.get(self.op_type, ())
        if self.grade is not None and self.grade not in allowed:
            raise ValueError(
                f"grade {self.grade!r} is not a grade of {self.op_type.value} "
                f"(allowed: {', '.join(allowed) or 'none'})"
            )
        return self

    def timestamps(self) -> Iterator[datetime]:
        """The start and the embedded analysis must not lie in the future."""
        yield self.ts
        if self.gas_test is not None and self.gas_test.ts is not None:
            yield self.gas_test.ts

    def planned(self) -> Iterator[tuple[str, datetime]]:
        """The permit's window."""
        yield "valid_from", self.valid_from
        yield "valid_to", self.valid_to

    def to_domain(self) -> so.OpStart:
        """The domain event."""
        test = None
        if self.gas_test is not None:
            test = self.gas_test.reading(self.gas_test.ts or self.ts)
        return so.OpStart(
            event_id=self.event_id,
            ts=self.ts,
            op_id=OpId(self.op_id),
            op_type=self.op_type,
            grade=self.grade,
            permit_no=self.permit_no,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            location=self.location,
            guardian=self.guardian.strip() if self.guardian else None,
            gas_test=test,
            oxygen_enriched=self.oxygen_enriched,
            guardian_cert=self.guardian_cert.strip() if self.guardian_cert else None,
            camera=self.camera,
            serves_op=OpId(self.serves_op) if self.serves_op else None,
        )


class GasTestEvent(EventBase, GasTestFields):
    """气体分析 for an operation."""

    type: Literal["gas_test"]
    op_id: Ident


class SpecialOpPauseEvent(EventBase):
    """特殊作业中断."""

    type: Literal["special_op_pause"]
    op_id: Ident


class SpecialOpResumeEvent(EventBase):
    """特殊作业恢复."""

    type: Literal["special_op_resume"]
    op_id: Ident


class SpecialOpEndEvent(EventBase):
    """特殊作业结束."""

    type: Literal["special_op_end"]
    op_id: Ident


class TrialStartEvent(EventBase):
    """试生产开始."""

    type: Literal["trial_start"]
    trial_id: Ident
    planned_end: Timestamp | None = None

    def planned(self) -> Iterator[tuple[str, datetime]]:
        """The planned end of the trial."""
        if self.planned_end is not None:
            yield "planned_end", self.planned_end

    def to_domain(self) -> st.TrialStart:
        """The domain event."""
        return st.TrialStart(self.event_id, self.ts, self.trial_id, self.planned_end)


class TrialEndEvent(EventBase):
    """试生产结束."""

    type: Literal["trial_end"]
    trial_id: Ident

    def to_domain(self) -> st.TrialEnd:
        """The domain event."""
        return st.TrialEnd(self.event_id, self.ts, self.trial_id)


OperationEvent = Annotated[
    ShutdownEvent
    | ResumeRequestEvent
    | ResumeEvent
    | MaintenanceStartEvent
    | MaintenanceEndEvent
    | SpecialOpStartEvent
    | GasTestEvent
    | SpecialOpPauseEvent
    | SpecialOpResumeEvent
    | SpecialOpEndEvent
    | TrialStartEvent
    | TrialEndEvent,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[OperationEvent] = TypeAdapter(OperationEvent)
STATUS_EVENTS = (
    ShutdownEvent,
    ResumeRequestEvent,
    ResumeEvent,
    MaintenanceStartEvent,
    MaintenanceEndEvent,
    TrialStartEvent,
    TrialEndEvent,
)
