"""MQTT topics of the wire contract: parsing uplink topics and building downlink ones."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from domain.credit_code import credit_code_problem


class Uplink(StrEnum):
    """Uplink kinds the ingest handles (video signalling is handled by monitor/video)."""

    EVENT = "event"
    TELEMETRY = "telemetry"
    COMMITMENT = "commitment"
    PRESENCE = "presence"
    ACK = "ack"


class Downlink(StrEnum):
    """Downlink kinds the service publishes."""

    GUIDANCE = "guidance"
    NOTICE = "notice"
    REJECT = "reject"
    RECEIPT = "receipt"  # sandbox / conformance mode only


class RejectCode(StrEnum):
    """Why an uplink message was refused (sent on …/reject and stored)."""

    TOPIC_INVALID = "topic_invalid"
    TOPIC_UNKNOWN = "topic_unknown"
    CREDIT_CODE_INVALID = "credit_code_invalid"
    ENTERPRISE_UNKNOWN = "enterprise_unknown"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    JSON_INVALID = "json_invalid"
    SCHEMA_INVALID = "schema_invalid"
    TIMESTAMP_INVALID = "timestamp_invalid"
    TIMESTAMP_FUTURE = "timestamp_future"
    TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"
    VALUE_OUT_OF_RANGE = "value_out_of_range"
    VALUE_OUTSIDE_TAG_RANGE = "value_outside_tag_range"
    EVENT_ID_REUSED = "event_id_reused"
    MAINTENANCE_OPEN_LIMIT = "maintenance_open_limit"
    REF_UNKNOWN = "ref_unknown"
    STORAGE_REFUSED = "storage_refused"


#: The check character is recomputed for every message otherwise; codes repeat a lot.
_code_problem = lru_cache(maxsize=65536)(credit_code_problem)

#: Downlink topics the service itself publishes; seen on the wildcard subscription, never handled.
OWN_DOWNLINKS = frozenset(d.value for d in Downlink)
_UPLINKS = {u.value: u for u in Uplink}


@dataclass(frozen=True, slots=True)
class TopicOk:
    """A well-formed uplink topic of an enterprise with a valid credit code."""

    enterprise_id: str
    kind: Uplink


@dataclass(frozen=True, slots=True)
class TopicIgnored:
    """A topic this consumer does not handle (own downlinks)."""


@dataclass(frozen=True, slots=True)
class TopicRefused:
    """A topic that is refused; `enterprise_id` is the topic's segment if there is one."""

    code: RejectCode
    reason: str
    enterprise_id: str | None


TopicResult = TopicOk | TopicIgnored | TopicRefused


class Topics:
    """Topic names under one prefix."""

    def __init__(self, prefix: str) -> None:
        """Topics under `prefix` (e.g. safewatch/v1)."""
        self.prefix = prefix
        self._head = f"{prefix}/ent/"

    def subscription(self, shared_group: str | None = None) -> str:
        """The filter the ingest subscribes to: every single-level kind of every enterprise."""
        base = f"{self.prefix}/ent/+/+"
        return f"$share/{shared_group}/{base}" if shared_group else base

    def uplink(self, ent: str, kind: Uplink | str) -> str:
        """An uplink topic (devices, simulator and tests publish here)."""
        return f"{self._head}{ent}/{kind}"

    def downlink(self, ent: str, kind: Downlink) -> str:
        """A downlink topic for one enterprise."""
        return f"{self._head}{ent}/{kind.value}"

    def parse(self, topic: str) -> TopicResult:
        """Check a received topic: prefix, shape, kind and the credit code's check character."""
        if not topic.startswith(self._head):
            return TopicRefused(
                RejectCode.TOPIC_INVALID,
                f"topic {topic!r} is not under {self._head}",
                None,
            )
        rest = topic[len(self._head) :].split("/")
        if len(rest) != 2 or not rest[0] or not rest[1]:
            return TopicRefused(
                RejectCode.TOPIC_INVALID,
                f"topic must be {self._head}{{credit code}}/{{kind}}",
                rest[0] or None,
            )
        ent, kind = rest
        if kind in OWN_DOWNLINKS:
            return TopicIgnored()
        problem = _code_problem(ent)
        if problem is not None:
            return TopicRefused(
                RejectCode.CREDIT_CODE_INVALID, f"invalid credit code {ent!r}: {problem}", ent
            )
        uplink = _UPLINKS.get(kind)
        if uplink is None:
            return TopicRefused(
                RejectCode.TOPIC_UNKNOWN,
                f"unknown topic kind {kind!r}; expected one of {', '.join(_UPLINKS)}",
                ent,
            )
        return TopicOk(ent, uplink)
