"""Ingest against the real broker and database: every event type, redelivery, every reject."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from config.policy import load_policies
from config.settings import Settings
from domain.credit_code import make_credit_code
from domain.i18n import render
from domain.special_ops_oversight import upgrade_reason
from tests.integration.monitor_support import (
    Device,
    rows,
    running_ingest,
    scalar,
    seed,
    ts,
    wait_for,
)


def _ev(event_id: str, type_: str, **fields: object) -> dict[str, object]:
    return {"event_id": event_id, "ts": ts(-60), "type": type_, **fields}


async def test_every_event_type_is_stored_and_applied(settings: Settings, pool) -> None:
    ent, *_ = await seed(pool, 2)
    dev = Device(settings, ent)
    try:
        async with running_ingest(settings, pool):
            sequence = [
                _ev("m1", "maintenance_start", maint_id="MT-1", scope="unit", units=["U1"]),
                _ev("m2", "maintenance_end", maint_id="MT-1"),
                _ev("s1", "shutdown", scope="plant", reason="年度大修"),
                _ev(
                    "r1",
                    "resume_request",
                    planned_at=ts(3600),
                    self_check=[
                        {"item": "安全设施", "ok": True},
                        {"item": "人员培训", "ok": False},
                    ],
                ),
                _ev(
                    "o1",
                    "special_op_start",
                    op_id="HW-1",
                    op_type="hot_work",
                    grade="2",
                    permit_no="DH-001",
                    valid_from=ts(-120),
                    valid_to=ts(3600),
                    location="罐区",
                    guardian="李四",
                    guardian_cert="JH-0001",
                    gas_test={"ts": ts(-90), "o2_pct": 20.9, "lel_pct": 0.0, "gas": "CH4"},
                ),
                _ev(
                    "g1",
                    "gas_test",
                    op_id="HW-1",
                    o2_pct=20.8,
                    lel_pct=1.0,
                    gas="CH4",
                    analyst="王五",
                ),
                _ev("p1", "special_op_pause", op_id="HW-1"),
                _ev("p2", "special_op_resume", op_id="HW-1"),
                _ev("p3", "special_op_end", op_id="HW-1"),
                _ev("t1", "trial_start", trial_id="TR-1", planned_end=ts(90 * 86400)),
                _ev("t2", "trial_end", trial_id="TR-1"),
            ]
            for e in sequence:
                dev.send("event", e)

            async def all_stored() -> bool:
                n = await scalar(
                    pool, "SELECT count(*) FROM events WHERE enterprise_id = %(e)s", {"e": ent}
                )
                return n == len(sequence)

            await wait_for(all_stored, what="all events stored")
            types = await rows(pool, "SELECT type FROM events ORDER BY ts, event_id")
            assert {t[0] for t in types} == {e["type"] for e in sequence}
            mode = await scalar(
                pool, "SELECT mode FROM enterprise_status WHERE enterprise_id = %(e)s", {"e": ent}
            )
            assert mode == "restart_requested"
            req = await rows(pool, "SELECT state, failed_items FROM restart_requests")
            assert req == [("pending", 1)]
            op = await rows(pool, "SELECT state, interruptions, grade FROM special_operations")
            # 升级管理 (GB 30871-2022 5.1.1): at night, on a rest day or a holiday the 二级 permit
            # is managed as 一级 — one grade higher, also after its restart, never two
            cal = load_policies(settings.policy_dir).monitoring.special_ops.upgrade
            raised = upgrade_reason(datetime.now(UTC) - timedelta(seconds=60), cal) is not None
            assert op == [("ended", 1, "1" if raised else "2")]
            assert await scalar(pool, "SELECT count(*) FROM gas_tests") == 2
            assert await scalar(pool, "SELECT ended_at IS NOT NULL FROM maintenance_jobs") is True
            assert await scalar(pool, "SELECT trial_id FROM enterprise_status") is None
            live = await rows(pool, "SELECT DISTINCT kind FROM live_changes")
            assert {"event", "status", "restart_request"} <= {k[0] for k in live}
            assert await scalar(pool, "SELECT count(*) FROM rejected_messages") == 0
    finally:
        dev.close()


async def test_redelivery_is_stored_once_and_reuse_is_refused(settings: Settings, pool) -> None:
    ent, *_ = await seed(pool, 1)
    dev = Device(settings, ent)
    try:
        async with running_ingest(settings, pool):
            event = _ev("dup-1", "shutdown", scope="unit", units=["U2"], reason="检修")
            for _ in range(3):
                dev.send("event", event)
            dev.send("event", {**event, "reason": "another"})
            telemetry = {"ts": ts(-5), "points": [{"tag": "T1", "value": 1.5}]}
            dev.send("telemetry", telemetry)
            dev.send("telemetry", telemetry)

            async def refused() -> bool:
                return await scalar(pool, "SELECT count(*) FROM rejected_messages") == 1

            await wait_for(refused, what="the reuse refusal")
            await wait_for(lambda: _has(dev, "reject"), what="the reject downlink")
            assert await scalar(pool, "SELECT count(*) FROM events") == 1
            assert await scalar(pool, "SELECT count(*) FROM telemetry") == 1
            code = await scalar(pool, "SELECT code FROM rejected_messages")
            assert code == "event_id_reused"
            (reject,) = dev.of_kind("reject")
            assert reject["ref"] == "dup-1"
            assert reject["code"] == "event_id_reused"
    finally:
        dev.close()


async def _has(dev: Device, kind: str, n: int = 1) -> bool:
    return len(dev.of_kind(kind)) >= n


async def test_every_reject_reason(settings: Settings, pool) -> None:
    ent, *_ = await seed(pool, 1)
    unknown = make_credit_code("330199", 424242)
    bad_check = ent[:-1] + ("0" if ent[-1] != "0" else "1")
    dev = Device(settings, ent)
    other = Device(settings, unknown)
    bad = Device(settings, bad_check)
    try:
        async with running_ingest(settings, pool):
            ok = _ev("x1", "shutdown", scope="plant", reason="r")
            cases = [
                (dev, "nonsense", ok, "topic_unknown"),
                (bad, "event", ok, "credit_code_invalid"),
                (other, "event", ok, "enterprise_unknown"),
                (dev, "event", b"{" + b" " * (256 * 1024 + 10) + b"}", "payload_too_large"),
                (dev, "event", "{not json", "json_invalid"),
                (
                    dev,
                    "event",
                    '{"event_id":"a","ts":"x","type":"z","s":"\\u0000"}',
                    "json_invalid",
                ),
                (dev, "event", {**ok, "scope": "galaxy"}, "schema_invalid"),
                (dev, "event", {**ok, "ts": "2026-01-01T08:00:00"}, "timestamp_invalid"),
                (dev, "event", {**ok, "ts": ts(3600)}, "timestamp_future"),
                (dev, "ack", {"ref": "G999999", "ts": ts()}, "ref_unknown"),
                (dev, "telemetry", {"ts": ts(), "points": []}, "schema_invalid"),
                (dev, "commitment", {"date": "2026-01-01"}, "schema_invalid"),
                (dev, "presence", {"online": "yes"}, "schema_invalid"),
            ]
            for device, kind, payload, _ in cases:
                device.send(kind, payload)

            async def all_refused() -> bool:
                return await scalar(pool, "SELECT count(*) FROM rejected_messages") == len(cases)

            await wait_for(all_refused, what="every refusal stored")
            got = [r[0] for r in await rows(pool, "SELECT code FROM rejected_messages ORDER BY id")]
            assert sorted(got) == sorted(c[3] for c in cases)
            big = await rows(
                pool,
                "SELECT length(payload), payload_size FROM rejected_messages"
                " WHERE code = 'payload_too_large'",
            )
            assert big == [(4096, 256 * 1024 + 12)]
            await wait_for(lambda: _has(dev, "reject", 10), what="reject downlinks")
            await wait_for(lambda: _has(other, "reject"), what="enterprise_unknown answered")
            await wait_for(lambda: _has(bad, "reject"), what="bad check character answered")
            assert "expected" in bad.of_kind("reject")[0]["reason"]
            for r in [*dev.of_kind("reject"), *bad.of_kind("reject"), *other.of_kind("reject")]:
                assert set(r) == {"ref", "topic", "code", "reason", "message"}
                # The zh-CN text of the code (what to fix) beside the English reason.
                assert r["message"] == render(f"reject.{r['code']}")
                assert re.search(r"[\u4e00-\u9fff]", r["message"]), r
            timestamp = [r for r in dev.of_kind("reject") if r["code"] == "timestamp_invalid"]
            assert timestamp[0]["ref"] == "x1"
            assert "offset" in timestamp[0]["reason"]
            # the loop survived all of that
            dev.send("event", ok)
            await wait_for(
                lambda: _count(pool, "SELECT count(*) FROM events", 1),
                what="a good event after bad ones",
            )
    finally:
        for d in (dev, other, bad):
            d.close()


async def _count(pool, query: str, n: int) -> bool:
    return await scalar(pool, query) == n


def test_reject_payload_shape_is_json() -> None:
    body = {"ref": None, "topic": "t", "code": "json_invalid", "reason": "r"}
    assert json.loads(json.dumps(body))["ref"] is None
