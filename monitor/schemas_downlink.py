"""Pydantic models of what the service publishes to a site (guidance, notice, reject, receipt).

They are the source of the published JSON Schema (monitor/protocol_schema.py); the tests check
that what the running service publishes validates against it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from monitor.topics import RejectCode


class Downlink(BaseModel):
    """Base: future optional fields may be added (a site ignores fields it does not know)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class GuidanceMessage(Downlink):
    """…/guidance: a duty officer's guidance (远程指导). Re-published with the same id and ts
    until acknowledged when requires_ack."""

    id: Annotated[str, Field(pattern=r"^G[0-9]+$", description="acknowledge it on …/ack")]
    ts: datetime = Field(description="when it was written (RFC 3339)")
    from_: Annotated[str, Field(alias="from", description="the sender's user name")]
    text: str
    requires_ack: bool


class NoticeMessage(Downlink):
    """…/notice: a notice of the bureau; `kind` says which fields it adds."""

    id: Annotated[str, Field(pattern=r"^N[0-9]+$", description="acknowledge it on …/ack")]
    ts: datetime
    kind: str = Field(
        description="restart_decision, licence_expiry, rectification_deadline (more may be added)"
    )
    text: str
    from_: Annotated[str, Field(alias="from")]
    requires_ack: bool
    request_ref: str | None = Field(
        default=None, description="restart_decision: the resume_request's event id"
    )
    decision: Literal["approved", "rejected"] | None = Field(
        default=None, description="restart_decision"
    )
    reason: str | None = Field(default=None, description="restart_decision: why (may be empty)")
    video_sessions: list[str] | None = Field(
        default=None,
        description="restart_decision: ids of the video sessions the decision was based on",
    )
    reminder_id: int | None = Field(
        default=None, description="licence_expiry, rectification_deadline: the reminder's id"
    )
    stage: str | None = Field(
        default=None,
        description="licence_expiry: first | deadline | last | expired; "
        "rectification_deadline: d<days>",
    )
    due: date | None = Field(
        default=None, description="the licence's last valid day, or the rectification deadline"
    )
    subject: str | None = Field(default=None, description="what the reminder is about")


class RejectMessage(Downlink):
    """…/reject: one refused uplink message."""

    ref: str | None = Field(
        description="the message's event_id, else msg_id, else the ack's ref, else null"
    )
    topic: str = Field(description="the topic the refused message was published on")
    code: RejectCode
    reason: str = Field(description="English technical detail (may change; match on code)")
    message: str | None = Field(
        default=None, description="zh-CN text of the code: what the site must fix"
    )


class ReceiptMessage(Downlink):
    """…/receipt (sandbox / conformance mode only): the verdict on every uplink message."""

    topic: str
    ref: str | None
    verdict: Literal["stored", "duplicate", "refused"]
    code: RejectCode | None = Field(default=None, description="with verdict refused")
    reason: str | None = Field(default=None, description="with verdict refused")
