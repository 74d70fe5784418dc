"""Pydantic models of the site's non-event uplinks: telemetry, commitment, presence, ack."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Literal, NotRequired

from pydantic import ConfigDict, Field, model_validator
from typing_extensions import TypedDict

from domain.special_ops import OpType
from monitor.schemas import Ident, Model, Name, Timestamp


class TelemetryPoint(TypedDict):
    """One reading of one tag (a TypedDict: validating 1,000 of them is 4× faster than models).
    `ts` defaults to the message's, `quality` to "good"."""

    __pydantic_config__ = ConfigDict(  # type: ignore[misc]
        extra="ignore", strict=True, allow_inf_nan=False
    )

    tag: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:/#-]{1,64}$")]
    value: float | None
    ts: NotRequired[Timestamp]
    quality: NotRequired[Literal["good", "bad"]]


class TelemetryMessage(Model):
    """A batch of readings (1–1000 points)."""

    ts: Timestamp
    points: list[TelemetryPoint] = Field(min_length=1, max_length=1000)
    #: Optional sender's id of the message, echoed as `ref` in a reject.
    msg_id: Ident | None = None

    def timestamps(self) -> Iterator[datetime]:
        """Message and point timestamps."""
        yield self.ts
        for p in self.points:
            ts = p.get("ts")
            if ts is not None:
                yield ts


class Units(Model):
    """Production units of the day."""

    total: Annotated[int, Field(ge=0, le=100000)]
    running: Annotated[int, Field(ge=0)]
    stopped: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _adds_up(self) -> Units:
        if self.running + self.stopped != self.total:
            raise ValueError("units running + stopped must equal total")
        return self


class PlannedOps(Model):
    """Planned special operations of one type (and grade)."""

    op_type: OpType
    grade: Literal["special", "1", "2", "3", "I", "II", "III", "IV"] | None = None
    count: Annotated[int, Field(ge=0, le=10000)]


class CommitmentMessage(Model):
    """安全风险研判与承诺公告 of one day."""

    date: date
    units: Units
    special_ops: list[PlannedOps] = Field(default_factory=list, max_length=100)
    maintenance: Annotated[int, Field(ge=0, le=10000)] = 0
    contractor_work: Annotated[int, Field(ge=0, le=10000)] = 0
    trial_production: bool = False
    startup_shutdown: bool = False
    risk_level: Annotated[int, Field(ge=1, le=4)]
    committed_by: Name
    committed_at: Timestamp
    #: Optional sender's id of the message, echoed as `ref` in a reject.
    msg_id: Ident | None = None

    def timestamps(self) -> Iterator[datetime]:
        """committed_at must not lie in the future."""
        yield self.committed_at


class PresenceMessage(Model):
    """Online on connect; the last will says offline."""

    online: bool
    ts: Timestamp | None = None
    #: With `online: false`: the site stops on purpose (published before a clean disconnect);
    #: no `offline` alarm follows. Never set it in the last will.
    planned: bool = False

    def timestamps(self) -> Iterator[datetime]:
        """The optional ts."""
        if self.ts is not None:
            yield self.ts


class AckMessage(Model):
    """The site confirms a guidance or notice."""

    ref: Annotated[str, Field(min_length=1, max_length=64)]
    ts: Timestamp
    by: Name | None = None

    def timestamps(self) -> Iterator[datetime]:
        """The ack time."""
        yield self.ts
