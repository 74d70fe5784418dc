"""The site protocol's JSON Schemas, generated from the service's own pydantic models.

`safewatch protocol-schema` writes them to api/protocol_schema/ (committed; the API serves them
at /public/v1/protocol/schemas/{name}); tests/unit/test_protocol_schema.py fails when the
committed files differ from what the models generate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from monitor.schemas import EVENT_ADAPTER
from monitor.schemas_downlink import GuidanceMessage, NoticeMessage, ReceiptMessage, RejectMessage
from monitor.schemas_site import AckMessage, CommitmentMessage, PresenceMessage, TelemetryMessage
from monitor.video.signalling import HangupMsg, RequestMsg, SdpMsg

DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: Where the generated files are committed (shipped in the package, served by the API).
SCHEMA_DIR = Path(__file__).resolve().parents[1] / "api" / "protocol_schema"


@dataclass(frozen=True, slots=True)
class Message:
    """One message of the protocol: its topic kind, direction and model."""

    name: str
    direction: str  # uplink | downlink
    topic: str
    adapter: TypeAdapter[Any]
    title: str


MESSAGES: tuple[Message, ...] = (
    Message("event", "uplink", "…/event", EVENT_ADAPTER, "Operation event (QoS 1)"),
    Message(
        "telemetry", "uplink", "…/telemetry", TypeAdapter(TelemetryMessage), "Telemetry readings"
    ),
    Message(
        "commitment",
        "uplink",
        "…/commitment",
        TypeAdapter(CommitmentMessage),
        "Daily risk commitment 安全风险研判与承诺公告",
    ),
    Message(
        "presence",
        "uplink",
        "…/presence",
        TypeAdapter(PresenceMessage),
        "Presence: online / heartbeat / planned stop / last will",
    ),
    Message(
        "ack", "uplink", "…/ack", TypeAdapter(AckMessage), "Acknowledgement of a guidance or notice"
    ),
    Message("guidance", "downlink", "…/guidance", TypeAdapter(GuidanceMessage), "Guidance"),
    Message("notice", "downlink", "…/notice", TypeAdapter(NoticeMessage), "Notice"),
    Message("reject", "downlink", "…/reject", TypeAdapter(RejectMessage), "Refused uplink"),
    Message(
        "receipt",
        "downlink",
        "…/receipt",
        TypeAdapter(ReceiptMessage),
        "Verdict on an uplink (sandbox / conformance mode only)",
    ),
    Message(
        "video_offer", "uplink", "…/video/offer", TypeAdapter(SdpMsg), "Video: the site's offer"
    ),
    Message(
        "video_hangup",
        "uplink",
        "…/video/hangup",
        TypeAdapter(HangupMsg),
        "Video: end a session (the same message both ways)",
    ),
    Message(
        "video_request",
        "downlink",
        "…/video/request",
        TypeAdapter(RequestMsg),
        "Video: the service asks the site for video",
    ),
    Message("video_answer", "downlink", "…/video/answer", TypeAdapter(SdpMsg), "Video: the answer"),
)
BY_NAME = {m.name: m for m in MESSAGES}


def schema_of(message: Message) -> dict[str, Any]:
    """The JSON Schema document of one message (validation mode: what a sender may send)."""
    body = message.adapter.json_schema(mode="validation", by_alias=True)
    return {
        "$schema": DIALECT,
        "$id": f"safewatch/v1/{message.name}.schema.json",
        "title": message.title,
        "description": (
            f"Safewatch site protocol, {message.direction} on {{prefix}}/ent/{{credit code}}/"
            f"{message.topic.removeprefix('…/')} (docs/protocol.md). Fields not listed may be "
            "added in later versions: ignore them."
        ),
        **{k: v for k, v in body.items() if k not in ("title", "description")},
    }


def render(schema: dict[str, Any]) -> str:
    """Stable text of a schema (sorted keys, UTF-8, trailing newline)."""
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def generated() -> dict[str, str]:
    """File name → text of every schema plus the index."""
    files = {f"{m.name}.schema.json": render(schema_of(m)) for m in MESSAGES}
    files["index.json"] = render(
        {
            m.name: {
                "direction": m.direction,
                "topic": m.topic,
                "title": m.title,
                "schema": f"{m.name}.schema.json",
            }
            for m in MESSAGES
        }
    )
    return files


def write(out_dir: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema file into `out_dir`; return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generated().items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
