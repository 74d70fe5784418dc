"""The monitoring HTTP API over a running ingest: status, alarms, restart decisions, guidance,
tags, summary and refused messages, with audit records and enterprise isolation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from config.settings import Settings
from tests.integration.apiclient import PASSWORD as ROLE_PASSWORD
from tests.integration.apiclient import add_user, admin, login
from tests.integration.monitor_support import (
    Device,
    request_restart,
    rows,
    running_ingest,
    scalar,
    seed,
    ts,
    wait_for,
)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def _start(op_id: str, **kw: object) -> dict[str, object]:
    return {
        "event_id": f"start-{op_id}",
        "ts": ts(-30),
        "type": "special_op_start",
        "op_id": op_id,
        "op_type": "confined_space",
        "permit_no": "SX-1",
        "valid_from": ts(-60),
        "valid_to": ts(3600),
        "location": "反应釜 R-2",
        "guardian": "李四",
        "guardian_cert": "JH-0001",
        **kw,
    }


async def test_status_alarm_handling_and_restart_decision(
    settings: Settings, pool, client: TestClient, db_url: str
) -> None:
    ent, other, *_ = await seed(pool, 2)
    h = admin(client)
    dev = Device(settings, ent)
    try:
        async with running_ingest(settings, pool):
            dev.send("presence", {"online": True})
            dev.send("event", _start("CS-1"))  # no gas test before entry → red alarm
            request_restart(dev)

            async def ready() -> bool:
                return await scalar(pool, "SELECT count(*) FROM restart_requests") == 1

            await wait_for(ready, what="restart request stored")
            st = client.get(f"/api/v1/enterprises/{ent}/status", headers=h).json()
            assert st["headline"] == "restart_requested"
            assert st["online"] is True
            assert [op["op_id"] for op in st["special_ops"]] == ["CS-1"]
            assert st["open_alarms"] >= 1
            assert st["worst_open_severity"] == "red"

            page = client.get(
                "/api/v1/alarms", params={"ent": ent, "state": "active"}, headers=h
            ).json()
            (alarm,) = [a for a in page["items"] if a["rule"] == "gas_test_missing"]
            assert alarm["severity"] == "red"
            assert alarm["title"] == "作业前未进行气体分析"
            assert alarm["enterprise_name"]
            res = client.post(f"/api/v1/alarms/{alarm['id']}/ack", json={}, headers=h)
            assert res.status_code == 200, res.text
            assert res.json()["state"] == "acknowledged"
            assert (
                client.post(f"/api/v1/alarms/{alarm['id']}/ack", json={}, headers=h).status_code
                == 409
            )
            bad = client.post(
                f"/api/v1/alarms/{alarm['id']}/close",
                json={"cause_category": "nope", "action_taken": "x x"},
                headers=h,
            )
            assert bad.status_code == 422
            missing = client.post(
                f"/api/v1/alarms/{alarm['id']}/close",
                json={"cause_category": "operator_error"},
                headers=h,
            )
            assert missing.status_code == 422
            closed = client.post(
                f"/api/v1/alarms/{alarm['id']}/close",
                json={"cause_category": "operator_error", "action_taken": "责令补做气体分析"},
                headers=h,
            )
            assert closed.json()["state"] == "closed"
            causes = client.get("/api/v1/alarms/causes", headers=h).json()["items"]
            assert {"id": "false_alarm", "label": "误报"} in causes

            reqs = client.get("/api/v1/restart-requests", params={"ent": ent}, headers=h).json()[
                "items"
            ]
            assert reqs[0]["state"] == "pending"
            no_reason = client.post(
                f"/api/v1/restart-requests/{reqs[0]['id']}/reject", json={"reason": ""}, headers=h
            )
            assert no_reason.status_code == 409
            decided = client.post(
                f"/api/v1/restart-requests/{reqs[0]['id']}/approve",
                json={"reason": "复验合格"},
                headers=h,
            )
            assert decided.status_code == 200, decided.text
            notice = decided.json()["notice"]
            assert notice["kind"] == "restart_decision"
            again = client.post(
                f"/api/v1/restart-requests/{reqs[0]['id']}/approve", json={}, headers=h
            )
            assert again.status_code == 409

            async def notified() -> bool:
                return any(n.get("id") == notice["ref"] for n in dev.of_kind("notice"))

            await wait_for(notified, what="restart decision on …/notice")
            (sent,) = [n for n in dev.of_kind("notice") if n["id"] == notice["ref"]]
            assert sent["decision"] == "approved"
            assert sent["request_ref"] == "r-1"
            dev.send("ack", {"ref": notice["ref"], "ts": ts(), "by": "厂长"})

            async def acked() -> bool:
                return (
                    await scalar(
                        pool, "SELECT state FROM downlinks WHERE ref = %(r)s", {"r": notice["ref"]}
                    )
                    == "acknowledged"
                )

            await wait_for(acked, what="notice acknowledged")
            dev.send(
                "event", {"event_id": "go-1", "ts": ts(), "type": "resume", "request_ref": "r-1"}
            )

            async def running() -> bool:
                return (
                    await scalar(
                        pool,
                        "SELECT mode FROM enterprise_status WHERE enterprise_id = %(e)s",
                        {"e": ent},
                    )
                    == "operating"
                )

            await wait_for(running, what="resumed after approval")
            assert (
                await scalar(
                    pool, "SELECT count(*) FROM alarms WHERE rule = 'resume_without_approval'"
                )
                == 0
            )
            actions = [r[0] for r in await rows(pool, "SELECT action FROM audit_log ORDER BY id")]
            assert {"alarm.ack", "alarm.close", "restart.approve"} <= set(actions)
            kinds = {r[0] for r in await rows(pool, "SELECT DISTINCT kind FROM live_changes")}
            assert {"alarm", "status", "restart_request", "guidance", "presence"} <= kinds

            events = client.get(f"/api/v1/enterprises/{ent}/events", headers=h).json()
            assert events["total"] == 4
            assert events["items"][0]["type"] == "resume"
            summary = client.get("/api/v1/status/summary", headers=h).json()
            assert summary["special_ops"] == {"confined_space": {"": 1}}
            assert summary["monitored"] == 1

            add_user(db_url, "ent_user", "enterprise", other)
            eh = login(client, "ent_user", ROLE_PASSWORD)
            assert client.get(f"/api/v1/enterprises/{ent}/status", headers=eh).status_code == 403
            assert client.get("/api/v1/alarms", params={"ent": ent}, headers=eh).status_code == 403
            assert client.get("/api/v1/alarms", headers=eh).json()["items"] == []
            assert (
                client.post(f"/api/v1/alarms/{alarm['id']}/ack", json={}, headers=eh).status_code
                == 403
            )
    finally:
        dev.close()


async def test_guidance_is_published_retried_and_acknowledged(
    settings: Settings, pool, client: TestClient
) -> None:
    ent, *_ = await seed(pool, 1)
    h = admin(client)
    dev = Device(settings, ent)
    try:
        async with running_ingest(settings, pool) as ingest:
            res = client.post(
                f"/api/v1/enterprises/{ent}/guidance",
                json={"text": "请立即停止动火作业", "requires_ack": True},
                headers=h,
            )
            assert res.status_code == 201, res.text
            ref = res.json()["ref"]
            assert res.json()["state"] == "pending"
            await wait_for(lambda: _got(dev, ref), what="guidance published")
            first = next(g for g in dev.of_kind("guidance") if g["id"] == ref)
            assert first["text"] == "请立即停止动火作业"
            assert first["requires_ack"] is True
            assert first["from"] == "admin"
            # not acknowledged: due again → published again (same id and ts)
            async with pool.connection() as conn:
                await conn.execute(
                    "UPDATE downlinks SET next_attempt_at = now() WHERE ref = %(r)s", {"r": ref}
                )
            await wait_for(lambda: _got(dev, ref, 2), what="guidance retried")
            again = [g for g in dev.of_kind("guidance") if g["id"] == ref]
            assert again[0] == again[1]
            dev.send("ack", {"ref": ref, "ts": ts(), "by": "安全员"})
            await asyncio.sleep(0.3)
            listed = client.get(f"/api/v1/enterprises/{ent}/guidance", headers=h).json()["items"]
            assert listed[0]["state"] == "acknowledged"
            assert listed[0]["acked_by"] == "安全员"
            assert listed[0]["attempts"] == 2
            # expiry
            res = client.post(
                f"/api/v1/enterprises/{ent}/guidance",
                json={"text": "第二条", "requires_ack": True},
                headers=h,
            )
            ref2 = res.json()["ref"]
            async with pool.connection() as conn:
                await conn.execute(
                    "UPDATE downlinks SET expires_at = now() WHERE ref = %(r)s", {"r": ref2}
                )
            await ingest.downlinks.tick()
            state = await scalar(pool, "SELECT state FROM downlinks WHERE ref = %(r)s", {"r": ref2})
            assert state == "expired"
            no_ack = client.post(
                f"/api/v1/enterprises/{ent}/guidance",
                json={"text": "通知", "requires_ack": False},
                headers=h,
            )
            await wait_for(lambda: _got(dev, no_ack.json()["ref"]), what="no-ack guidance")
            await asyncio.sleep(0.2)
            assert (
                await scalar(
                    pool,
                    "SELECT state FROM downlinks WHERE ref = %(r)s",
                    {"r": no_ack.json()["ref"]},
                )
                == "delivered"
            )
            # `delivered` only means published; the site's ack makes it `received`.
            dev.send("ack", {"ref": no_ack.json()["ref"], "ts": ts()})

            async def received() -> bool:
                return (
                    await scalar(
                        pool,
                        "SELECT state FROM downlinks WHERE ref = %(r)s",
                        {"r": no_ack.json()["ref"]},
                    )
                    == "received"
                )

            await wait_for(received, what="the no-ack guidance received")
            dev.send("ack", {"ref": ref, "ts": ts(), "by": "别人"})  # twice: harmless
            listed = client.get(f"/api/v1/enterprises/{ent}/guidance", headers=h).json()["items"]
            states = {g["ref"]: (g["state"], g["acked_by"]) for g in listed}
            assert states[no_ack.json()["ref"]] == ("received", None)
            assert states[ref] == ("acknowledged", "安全员")
            assert "guidance.send" in [
                r[0] for r in await rows(pool, "SELECT action FROM audit_log")
            ]
            # every step of the delivery is announced once (services.downlinks); the retry
            # is not
            assert await _changes(pool, no_ack.json()["ref"]) == ["created", "sent", "received"]
            assert await _changes(pool, ref) == ["created", "sent", "acknowledged"]
            # (the publisher may or may not have sent it before it expired)
            assert await _changes(pool, ref2) in (
                ["created", "expired"],
                ["created", "sent", "expired"],
            )
            states = await rows(
                pool,
                "SELECT payload->>'state' FROM live_changes WHERE kind = 'guidance'"
                " AND payload->>'ref' = %(r)s ORDER BY id",
                {"r": no_ack.json()["ref"]},
            )
            assert [s[0] for s in states] == ["pending", "delivered", "received"]
    finally:
        dev.close()


async def _changes(pool: Any, ref: str) -> list[str]:
    """The `change` of each live change of one downlink, in order."""
    got = await rows(
        pool,
        "SELECT payload->>'change' FROM live_changes WHERE kind = 'guidance'"
        " AND payload->>'ref' = %(r)s ORDER BY id",
        {"r": ref},
    )
    return [g[0] for g in got]


async def _got(dev: Device, ref: str, n: int = 1) -> bool:
    return len([g for g in dev.of_kind("guidance") if g.get("id") == ref]) >= n


def test_tag_registry_crud_and_import(settings: Settings, client: TestClient, db_url: str) -> None:
    from tests.integration.apiclient import seed as seed_sync

    ent, *_ = seed_sync(db_url, 1)
    h = admin(client)
    body = {
        "kind": "level",
        "unit": "m",
        "hh": 9,
        "h": 8.5,
        "l": 1,
        "ll": 0.5,
        "deadband": 0.1,
        "delay_s": 5,
    }
    res = client.put(f"/api/v1/enterprises/{ent}/tags/V101.LT", json=body, headers=h)
    assert res.status_code == 200, res.text
    assert res.json()["level"] == "normal"
    bad = client.put(f"/api/v1/enterprises/{ent}/tags/V101.LT", json={**body, "h": 0.2}, headers=h)
    assert bad.status_code == 422
    assert (
        client.put(f"/api/v1/enterprises/{ent}/tags/bad%20tag", json=body, headers=h).status_code
        == 422
    )
    csv = (
        "tag,kind,unit,hh,h,l,ll,deadband,delay_s,enabled\n"
        "T101.TT,temperature,°C,120,100,,,1,10,是\n"
        "P101.PT,pressure,MPa,2.5,2.0,0.2,0.1,0.05,0,true\n"
        "bad tag,x,,,,,,,,\n"
        "V101.LT,level,m,9,8.5,1,0.5,0.1,5,yes\n"
        "Q1,flow,m3/h,1,2,,,,,\n"
    ).encode()
    res = client.post(
        f"/api/v1/enterprises/{ent}/tags/import",
        files={"file": ("tags.csv", csv, "text/csv")},
        headers=h,
    )
    assert res.status_code == 200, res.text
    report = res.json()
    assert (report["rows"], report["created"], report["updated"], report["rejected"]) == (
        5,
        2,
        1,
        2,
    )
    assert [e["row"] for e in report["errors"]] == [4, 6]
    # Row reasons in the reader's language (zh-CN by default).
    assert report["errors"][0]["message"].startswith("位号“bad tag”只能使用字母")
    assert report["errors"][1]["message"].startswith("位号设置不符合要求")
    tags = client.get(f"/api/v1/enterprises/{ent}/tags", headers=h).json()["items"]
    assert [t["tag"] for t in tags] == ["P101.PT", "T101.TT", "V101.LT"]
    assert client.delete(f"/api/v1/enterprises/{ent}/tags/T101.TT", headers=h).status_code == 204
    assert client.delete(f"/api/v1/enterprises/{ent}/tags/T101.TT", headers=h).status_code == 404
