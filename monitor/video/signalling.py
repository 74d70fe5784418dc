"""MQTT video signalling: topics, payload models and the `Signaller` the session manager uses."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.credit_code import credit_code_problem
from domain.errors import ValidationFailed
from domain.i18n import msg

log = logging.getLogger(__name__)

SESSION_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
VideoKind = Literal["request", "offer", "answer", "hangup"]
KINDS: frozenset[str] = frozenset({"request", "offer", "answer", "hangup"})
MAX_PAYLOAD_BYTES = 128 * 1024

#: Handler of inbound messages: (topic, raw payload) → awaitable; it must not raise.
InboundHandler = Callable[[str, bytes], Awaitable[None]]


class Signaller(Protocol):
    """Publishes signalling messages; the MQTT client behind it belongs to the process."""

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        """Publish `payload` as JSON on `topic` (QoS 1)."""
        ...

    @property
    def connected(self) -> bool:
        """Whether messages published now reach the broker at once."""
        ...


def video_topic(prefix: str, enterprise: str, kind: VideoKind) -> str:
    """`{prefix}/ent/{enterprise}/video/{kind}`."""
    return f"{prefix}/ent/{enterprise}/video/{kind}"


def event_topic(prefix: str, enterprise: str) -> str:
    """`{prefix}/ent/{enterprise}/event` (operation events)."""
    return f"{prefix}/ent/{enterprise}/event"


def server_subscriptions(prefix: str) -> list[str]:
    """Topic filters the server listens on: every site's offers and hangups."""
    return [f"{prefix}/ent/+/video/offer", f"{prefix}/ent/+/video/hangup"]


def site_subscriptions(prefix: str, enterprise: str) -> list[str]:
    """Topic filters a site agent listens on: requests, answers and hangups for itself."""
    return [video_topic(prefix, enterprise, k) for k in ("request", "answer", "hangup")]


@dataclass(frozen=True, slots=True)
class VideoTopic:
    """A parsed video topic."""

    enterprise: str
    kind: str


def parse_topic(prefix: str, topic: str) -> VideoTopic:
    """Split a video topic into enterprise and kind; ValidationFailed if it is not one."""
    head = f"{prefix}/ent/"
    if not topic.startswith(head):
        raise ValidationFailed(msg("video.topic_prefix", topic=topic[:120], head=head))
    parts = topic[len(head) :].split("/")
    if len(parts) != 3 or parts[1] != "video" or parts[2] not in KINDS:
        raise ValidationFailed(msg("video.topic_kind", topic=topic[:120]))
    problem = credit_code_problem(parts[0])
    if problem is not None:
        raise ValidationFailed(msg("video.topic_enterprise", problem=problem))
    return VideoTopic(enterprise=parts[0], kind=parts[2])


class _Msg(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    session_id: str = Field(pattern=SESSION_ID_PATTERN)


class RequestMsg(_Msg):
    """`…/video/request`, service → site: start sending video."""

    ts: str
    requested_by: str = Field(max_length=200)
    purpose: str = Field(max_length=64)


class SdpMsg(_Msg):
    """`…/video/offer` (site → service) and `…/video/answer` (service → site)."""

    type: Literal["offer", "answer"]
    sdp: str = Field(max_length=64 * 1024)


class HangupMsg(_Msg):
    """`…/video/hangup`, either way; `by` (extension) tells who hung up."""

    reason: str | None = Field(default=None, max_length=500)
    by: Literal["site", "server"] | None = None


M = TypeVar("M", bound=_Msg)


def parse_payload(model: type[M], payload: bytes) -> M:
    """Decode JSON `payload` into `model`; ValidationFailed with the first problem otherwise."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValidationFailed(msg("video.payload_too_large", max_payload_bytes=MAX_PAYLOAD_BYTES))
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(msg("video.payload_not_json", exc=exc)) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "payload"
        raise ValidationFailed(
            msg("video.payload_field", where=where, value=first.get("msg"))
        ) from None


class MemorySignaller:
    """A Signaller that records what was published (tests, and wiring without a broker)."""

    def __init__(self) -> None:
        """Start with nothing published."""
        self.published: list[tuple[str, dict[str, Any]]] = []

    @property
    def connected(self) -> bool:
        """Always: there is no broker to lose."""
        return True

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        """Record the message."""
        self.published.append((topic, dict(payload)))
