"""Checking one received message: topic, size, JSON, schema, timestamps → accepted or refused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError

from domain.monitoring import EnterpriseId
from domain.telemetry import TagLimits
from monitor.schemas import (
    EVENT_ADAPTER,
    EventBase,
    OperationEvent,
    SpecialOpStartEvent,
    TimestampError,
)
from monitor.schemas_site import AckMessage, CommitmentMessage, PresenceMessage, TelemetryMessage
from monitor.topics import RejectCode, TopicIgnored, TopicRefused, Topics, Uplink

Body = OperationEvent | TelemetryMessage | CommitmentMessage | PresenceMessage | AckMessage

_ADAPTERS: dict[Uplink, TypeAdapter[Any]] = {
    Uplink.EVENT: EVENT_ADAPTER,
    Uplink.TELEMETRY: TypeAdapter(TelemetryMessage),
    Uplink.COMMITMENT: TypeAdapter(CommitmentMessage),
    Uplink.PRESENCE: TypeAdapter(PresenceMessage),
    Uplink.ACK: TypeAdapter(AckMessage),
}


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message as paho handed it over (the only type crossing from its thread)."""

    topic: str
    payload: bytes
    qos: int
    mid: int
    retain: bool
    generation: int
    received: float


@dataclass(frozen=True, slots=True)
class Accepted:
    """A message that passed every check (the enterprise's existence is checked later)."""

    msg: Inbound
    enterprise_id: EnterpriseId
    kind: Uplink
    body: Body
    digest: bytes


@dataclass(frozen=True, slots=True)
class Refused:
    """A refused message: stored, answered on …/reject, counted."""

    msg: Inbound
    code: RejectCode
    reason: str
    enterprise_id: str | None
    ref: str | None


@dataclass(frozen=True, slots=True)
class Ignored:
    """A message on a topic this consumer does not handle (acknowledged, nothing stored)."""

    msg: Inbound


Checked = Accepted | Refused | Ignored


@dataclass(frozen=True, slots=True)
class Limits:
    """The ingest's limits (config/monitoring.yaml, section ingest)."""

    max_payload_bytes: int
    max_future_skew: timedelta
    planning_horizon: timedelta = timedelta(days=400)
    max_permit: timedelta = timedelta(days=31)
    max_abs_value: float = 1e12


def check(msg: Inbound, topics: Topics, limits: Limits, now: datetime) -> Checked:
    """Run every check that needs no database; never raises for bad input."""
    where = topics.parse(msg.topic)
    if isinstance(where, TopicIgnored):
        return Ignored(msg)
    if isinstance(where, TopicRefused):
        return Refused(msg, where.code, where.reason, where.enterprise_id, None)
    ent = where.enterprise_id
    size = len(msg.payload)
    if size > limits.max_payload_bytes:
        return Refused(
            msg,
            RejectCode.PAYLOAD_TOO_LARGE,
            f"payload of {size} bytes exceeds {limits.max_payload_bytes}",
            ent,
            None,
        )
    if b"\\u0000" in msg.payload:
        return Refused(
            msg,
            RejectCode.JSON_INVALID,
            "JSON strings may not contain \\u0000",
            ent,
            event_ref(msg),
        )
    try:
        body = _ADAPTERS[where.kind].validate_json(msg.payload)
    except ValidationError as exc:
        code, reason = _explain(exc)
        return Refused(
            msg, code, reason, ent, event_ref(msg) if code != RejectCode.JSON_INVALID else None
        )
    latest = now + limits.max_future_skew
    for ts in body.timestamps():
        if ts > latest:
            return Refused(
                msg,
                RejectCode.TIMESTAMP_FUTURE,
                f"timestamp {ts.isoformat()} is more than "
                f"{int(limits.max_future_skew.total_seconds())} s in the future",
                ent,
                body_ref(body),
            )
    out_of_range = _out_of_range(body, limits)
    if out_of_range is not None:
        code, reason = out_of_range
        return Refused(msg, code, reason, ent, body_ref(body))
    digest = hashlib.blake2b(msg.payload, digest_size=16).digest()
    return Accepted(msg, EnterpriseId(ent), where.kind, body, digest)


def _out_of_range(body: Body, limits: Limits) -> tuple[RejectCode, str] | None:
    """Planned times beyond the horizon, implausible permits, absurd readings (the periodic
    jobs and the roll-up must never meet them)."""
    if isinstance(body, TelemetryMessage):
        bound = limits.max_abs_value
        for i, p in enumerate(body.points):
            value = p["value"]
            if value is not None and not -bound <= value <= bound:
                return (
                    RejectCode.VALUE_OUT_OF_RANGE,
                    f"points.{i}.value {value!r} ({p['tag']}) is outside ±{bound:g}",
                )
        return None
    if not isinstance(body, EventBase):
        return None
    horizon = limits.planning_horizon
    for name, when in body.planned():
        if abs(when - body.ts) > horizon:
            return (
                RejectCode.TIMESTAMP_OUT_OF_RANGE,
                f"{name} {when.isoformat()} is more than {horizon.days} days from the event's "
                f"ts {body.ts.isoformat()}",
            )
    if (
        isinstance(body, SpecialOpStartEvent)
        and body.valid_to - body.valid_from > limits.max_permit
    ):
        return (
            RejectCode.TIMESTAMP_OUT_OF_RANGE,
            f"permit window valid_from..valid_to of {body.valid_to - body.valid_from} exceeds "
            f"{limits.max_permit.days} days (no permit type allows that)",
        )
    return None


def outside_tag_range(a: Accepted, registry: Mapping[tuple[str, str], TagLimits]) -> Refused | None:
    """A telemetry message with a value outside its registered tag's measuring range, refused
    whole (as the global bound does); None when every value fits (or no range is set)."""
    body = a.body
    if not isinstance(body, TelemetryMessage):
        return None
    ent = str(a.enterprise_id)
    for i, p in enumerate(body.points):
        value = p["value"]
        limits = registry.get((ent, p["tag"])) if value is not None else None
        if limits is not None and value is not None and limits.outside_range(value):
            low = "" if limits.range_min is None else f"{limits.range_min:g}"
            high = "" if limits.range_max is None else f"{limits.range_max:g}"
            return Refused(
                a.msg,
                RejectCode.VALUE_OUTSIDE_TAG_RANGE,
                f"points.{i}.value {value!r} ({p['tag']}) is outside the tag's registered "
                f"range [{low}, {high}]",
                ent,
                body_ref(body),
            )
    return None


def _explain(exc: ValidationError) -> tuple[RejectCode, str]:
    errors = exc.errors(include_url=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        return RejectCode.JSON_INVALID, f"payload is not valid JSON: {first['msg']}"
    for err in errors:
        if isinstance(err.get("ctx", {}).get("error"), TimestampError):
            loc = ".".join(str(p) for p in err["loc"])
            return RejectCode.TIMESTAMP_INVALID, f"{loc}: {err['ctx']['error']}"
    parts = []
    for err in errors[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "payload"
        parts.append(f"{loc}: {err['msg']}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return RejectCode.SCHEMA_INVALID, "; ".join(parts) + more


def event_ref(msg: Inbound) -> str | None:
    """The `ref` of a refused message: its event id, else its `msg_id` (telemetry, commitment),
    when one can be read from it (best effort)."""
    try:
        data = json.loads(msg.payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    ref = data.get("event_id") or data.get("msg_id")
    return ref[:64] if isinstance(ref, str) and ref else None


def body_ref(body: object) -> str | None:
    """The `ref` a reject of an accepted-then-refused message carries: event id or msg_id."""
    ref = getattr(body, "event_id", None) or getattr(body, "msg_id", None)
    return ref if isinstance(ref, str) else None
