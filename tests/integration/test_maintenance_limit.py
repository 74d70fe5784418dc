"""The bureau's bound on open maintenance jobs per enterprise (issue 11), through the real broker
and the portal: a maintenance start beyond it is refused with its own code and zh-CN text,
recorded, answered on …/reject, alarmed to duty staff; a correction of an open job and every end
still pass, the same event is accepted once a job has ended, other enterprises are untouched."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from config.policy_monitoring import load_monitoring_policy
from config.settings import Settings
from domain.i18n import render
from monitor.ingest import reject_message
from monitor.topics import RejectCode
from tests.integration.apiclient import PASSWORD, add_user
from tests.integration.conftest import bearer
from tests.integration.liveserver import ServerThread
from tests.integration.monitor_support import Device, rows, running_ingest, scalar, seed, ts
from tests.integration.monitor_support import wait_for as wait_until


def start(n: int, maint: str | None = None, at: float = 0.0) -> dict[str, Any]:
    return {
        "event_id": f"ms-{n}",
        "ts": ts(at),
        "type": "maintenance_start",
        "maint_id": maint or f"M{n}",
        "scope": "unit",
        "units": ["U1"],
    }


def end(n: int, maint: str, at: float = 0.0) -> dict[str, Any]:
    return {"event_id": f"me-{n}", "ts": ts(at), "type": "maintenance_end", "maint_id": maint}


async def _open_jobs(pool: Any, ent: str) -> int:
    return int(
        await scalar(
            pool,
            "SELECT count(*) FROM maintenance_jobs WHERE enterprise_id = %(e)s"
            " AND ended_at IS NULL",
            {"e": ent},
        )
    )


async def test_a_start_beyond_the_bound_is_refused_answered_and_alarmed_over_mqtt(
    settings: Settings, pool: Any
) -> None:
    limit = load_monitoring_policy(settings.policy_dir).max_open_maintenance
    ent, peer = await seed(pool, 2)
    dev = Device(settings, ent)
    peer_dev = Device(settings, peer)
    try:
        async with running_ingest(settings, pool) as ingest:
            for n in range(limit):
                dev.send("event", start(n, at=-300 + n))

            async def filled() -> bool:
                return await _open_jobs(pool, ent) == limit

            await wait_until(filled, timeout=30, what=f"{limit} open jobs")
            over = start(limit, at=-200)
            dev.send("event", over)
            dev.send("event", start(limit + 1, maint="M3", at=-199))  # a correction of M3
            peer_dev.send("event", start(0, at=-198))

            async def answered() -> bool:
                return len(dev.of_kind("reject")) >= 1 and ingest.stored_events >= limit + 2

            await wait_until(answered, timeout=30, what="the refusal answered on …/reject")
            (reject,) = dev.of_kind("reject")
            assert reject["code"] == "maintenance_open_limit"
            assert reject["ref"] == over["event_id"]
            assert f"holds {limit} open maintenance jobs" in reject["reason"], reject
            assert reject["message"] == reject_message(RejectCode.MAINTENANCE_OPEN_LIMIT)
            assert re.search(r"[\u4e00-\u9fff]", reject["message"])
            assert await _open_jobs(pool, ent) == limit
            assert await _open_jobs(pool, peer) == 1
            assert await rows(pool, "SELECT code, ref, enterprise_id FROM rejected_messages") == [
                ("maintenance_open_limit", over["event_id"], ent)
            ]
            assert (
                await scalar(
                    pool,
                    "SELECT count(*) FROM events WHERE event_id = %(i)s",
                    {"i": over["event_id"]},
                )
                == 0
            )
            alarms = await rows(
                pool,
                "SELECT enterprise_id, subject, state, evidence->>'maint_id', message"
                " FROM alarms WHERE rule = 'maintenance_open_limit'",
            )
            assert [a[:4] for a in alarms] == [(ent, "maintenance", "active", f"M{limit}")]
            assert str(limit) in alarms[0][4], alarms
            assert "拒收" in alarms[0][4], alarms

            # One job ends: the very same event (same id, same content) is now accepted — its
            # exactly-once key was given back with the refusal.
            dev.send("event", end(0, "M0", at=-150))
            dev.send("event", over)

            async def taken() -> bool:
                n = await scalar(
                    pool,
                    "SELECT count(*) FROM events WHERE event_id = %(i)s",
                    {"i": over["event_id"]},
                )
                return bool(n == 1)

            await wait_until(taken, timeout=30, what="the start accepted after an end")
            assert await _open_jobs(pool, ent) == limit
            assert len(dev.of_kind("reject")) == 1
    finally:
        dev.close()
        peer_dev.close()


async def test_the_portal_report_path_holds_the_same_bound(
    settings: Settings, pool: Any, live_server: ServerThread, db_url: str
) -> None:
    limit = load_monitoring_policy(settings.policy_dir).max_open_maintenance
    (ent,) = await seed(pool, 1)
    add_user(db_url, "ent_mgr", "enterprise", ent)
    h = bearer(live_server, "ent_mgr", PASSWORD)
    headers = {**h, "Content-Type": "application/json", "Accept-Language": "zh-CN"}
    dev = Device(settings, ent)
    try:
        async with (
            running_ingest(settings, pool) as ingest,
            httpx.AsyncClient(base_url=live_server.url, timeout=30) as client,
        ):
            for n in range(limit):  # the device fills the bound …
                dev.send("event", start(n, at=-300 + n))

            async def filled() -> bool:
                return ingest.stored_events >= limit

            await wait_until(filled, timeout=30, what=f"{limit} open jobs")
            # … and the phone reports one more start
            body = json.dumps(start(limit, at=-10), ensure_ascii=False).encode()
            res = await client.post(
                f"/api/v1/enterprises/{ent}/reports", content=body, headers=headers
            )
            assert res.status_code == 422, res.text
            err = res.json()["error"]
            assert err["details"]["code"] == "maintenance_open_limit"
            assert render("portal.reject.maintenance_open_limit") in err["message"], err
            listed = await client.get(f"/api/v1/enterprises/{ent}/reports", headers=h)
            assert [r["state"] for r in listed.json()] == ["refused"]
            # An end over the portal is accepted, and then the same start.
            ended = json.dumps(end(0, "M0", at=-5), ensure_ascii=False).encode()
            res = await client.post(
                f"/api/v1/enterprises/{ent}/reports", content=ended, headers=headers
            )
            assert res.status_code == 200, res.text
            res = await client.post(
                f"/api/v1/enterprises/{ent}/reports", content=body, headers=headers
            )
            assert res.status_code == 200, res.text
            assert res.json()["state"] == "stored"
    finally:
        dev.close()
    assert await rows(pool, "SELECT code FROM rejected_messages") == [("maintenance_open_limit",)]
    alarms = await scalar(
        pool,
        "SELECT count(*) FROM alarms WHERE rule = 'maintenance_open_limit'"
        " AND enterprise_id = %(e)s",
        {"e": ent},
    )
    assert alarms == 1
    assert await _open_jobs(pool, ent) == limit
