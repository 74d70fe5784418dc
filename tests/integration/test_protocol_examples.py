"""Every example in docs/protocol.md is valid against the published JSON Schema, every uplink
example is accepted by a running service (sandbox receipts: stored), and what the service really
publishes (guidance, notice, reject, receipt) is valid against the downlink schemas. The broker
is Mosquitto configured as in production (per-enterprise accounts and ACL)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from config.settings import Settings
from domain.clock import utcnow
from monitor.protocol_schema import MESSAGES, SCHEMA_DIR
from monitor.video.signalling import HangupMsg, RequestMsg, SdpMsg, parse_payload
from storage import downlinks
from tests.integration.monitor_support import running_ingest, seed, wait_for
from tests.integration.site_support import site_broker

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = re.compile(r"<!-- example: (uplink|downlink) (\w+) -->\n```json\n(.*?)\n```", re.S)


def examples() -> list[tuple[str, str, Any]]:
    """(direction, message name, payload) of every example block in docs/protocol.md."""
    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    return [(d, n, json.loads(body)) for d, n, body in EXAMPLE.findall(text)]


def validator(name: str) -> Any:
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    return jsonschema_rs.Draft202012Validator(schema)


def assert_valid(name: str, payload: Any) -> None:
    errors = [e.message for e in validator(name).iter_errors(payload)]
    assert not errors, f"{name} example {payload!r}: {errors}"


def test_every_message_kind_has_an_example_and_each_is_schema_valid() -> None:
    found = examples()
    kinds = {(d, n) for d, n, _ in found}
    assert kinds == {(m.direction, m.name) for m in MESSAGES}, kinds
    event_types = {p["type"] for d, n, p in found if n == "event"}
    schema = json.loads((SCHEMA_DIR / "event.schema.json").read_text(encoding="utf-8"))
    assert event_types == set(schema["discriminator"]["mapping"])  # every operation event type
    for _, name, payload in found:
        assert_valid(name, payload)
    # the schema refuses what the doc says is refused
    assert not validator("event").is_valid({"event_id": "x", "ts": "2026-03-01 08:00", "type": "x"})


@pytest.fixture
def sandbox(settings: Settings) -> Settings:
    return settings.model_copy(update={"mqtt_receipts": True})


async def test_every_uplink_example_is_accepted_and_real_downlinks_match_the_schema(
    sandbox: Settings, pool
) -> None:
    (ent,) = await seed(pool, 1)
    # the video signalling uplinks go to the video service, not the ingest: parsed below by the
    # video service's own parser
    uplinks = [(n, p) for d, n, p in examples() if d == "uplink" and not n.startswith("video_")]
    for _, n, p in examples():
        if n.startswith("video_"):
            model = {"video_hangup": HangupMsg, "video_request": RequestMsg}.get(n, SdpMsg)
            parse_payload(model, json.dumps(p).encode())
    with site_broker(sandbox, [ent]) as sb:
        dev = sb.device(ent)
        try:
            async with running_ingest(sb.service, pool):
                now = utcnow()
                async with pool.connection() as conn, conn.transaction():
                    guidance = await downlinks.create(
                        conn,
                        channel="guidance",
                        ent=ent,
                        text="请暂停 T-201 动火作业并复测可燃气体",
                        sender="duty01",
                        expires_at=now + timedelta(hours=1),
                        now=now,
                    )
                    notice = await downlinks.create(
                        conn,
                        channel="notice",
                        ent=ent,
                        kind="restart_decision",
                        text="复产申请 RR-20260304-01 已通过复验，可按计划复产。",
                        extra={
                            "request_ref": "RR-20260304-01",
                            "decision": "approved",
                            "reason": "",
                            "video_sessions": [],
                        },
                        sender="duty01",
                        expires_at=now + timedelta(hours=1),
                        now=now,
                    )
                assert guidance.ref == "G1"  # the id the ack example acknowledges

                async def both() -> bool:
                    got = {g["id"] for g in dev.of_kind("guidance") + dev.of_kind("notice")}
                    return {guidance.ref, notice.ref} <= got

                await wait_for(both, what="guidance and notice published")
                for name, payload in uplinks:
                    dev.send(name, payload)
                dev.send(
                    "event", {"event_id": "bad-1", "ts": "2026-03-01T08:00:00", "type": "resume"}
                )

                async def all_judged() -> bool:
                    return len(dev.of_kind("receipt")) >= len(uplinks) + 1

                await wait_for(all_judged, timeout=30, what="a receipt for every example")
                receipts = dev.of_kind("receipt")
                verdicts = [(r["verdict"], r.get("code"), r["ref"]) for r in receipts]
                assert verdicts[-1] == ("refused", "timestamp_invalid", "bad-1")
                assert all(v == "stored" for v, _, _ in verdicts[:-1]), verdicts
                # the same example sent again is a duplicate, not a refusal
                dev.send(*uplinks[0])

                async def again() -> bool:
                    return len(dev.of_kind("receipt")) > len(receipts)

                await wait_for(again, what="the duplicate's receipt")
                assert dev.of_kind("receipt")[-1]["verdict"] == "duplicate"
                for name in ("guidance", "notice", "reject", "receipt"):
                    published = dev.of_kind(name)
                    assert published, name
                    for body in published:
                        assert_valid(name, body)
        finally:
            dev.close()


def test_the_schemas_are_served_without_a_token(settings: Settings) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(settings)) as client:
        index = client.get("/public/v1/protocol/schemas")
        assert index.status_code == 200
        assert set(index.json()) == {m.name for m in MESSAGES}
        for m in MESSAGES:
            res = client.get(f"/public/v1/protocol/schemas/{m.name}")
            assert res.status_code == 200
            assert res.headers["content-type"].startswith("application/schema+json")
            assert res.content == (SCHEMA_DIR / f"{m.name}.schema.json").read_bytes()
            again = client.get(
                f"/public/v1/protocol/schemas/{m.name}",
                headers={"If-None-Match": res.headers["etag"]},
            )
            assert again.status_code == 304
        for bad in ("nope", "..%2Findex", "index"):
            assert client.get(f"/public/v1/protocol/schemas/{bad}").status_code == 404
