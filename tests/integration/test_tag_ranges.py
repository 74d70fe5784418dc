"""A tag's registered measuring range bounds its readings (issue 11): values outside are refused
over MQTT with their own reason (code, zh-CN text), recorded, and answered on …/reject; the
global bound (±1e12) still holds for every tag; readings inside, and of tags without a range,
are stored."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.app import create_app
from config.settings import Settings
from domain.i18n import render
from tests.integration.apiclient import admin
from tests.integration.monitor_support import Device, rows, running_ingest, scalar, seed, ts
from tests.integration.monitor_support import wait_for as wait_until

IMPORT = "tag,unit,range_min,range_max\nT2.LT,m,-5,5\n"


async def test_readings_outside_a_tags_registered_range_are_refused_over_mqtt(
    settings: Settings, pool
) -> None:
    ent, *_ = await seed(pool, 1)
    with TestClient(create_app(settings)) as client:
        headers = admin(client)
        res = client.put(
            f"/api/v1/enterprises/{ent}/tags/T1.PT",
            json={"unit": "MPa", "h": 8.0, "range_min": 0.0, "range_max": 10.0},
            headers=headers,
        )
        assert res.status_code == 200, res.text
        assert (res.json()["range_min"], res.json()["range_max"]) == (0.0, 10.0)
        wrong = client.put(
            f"/api/v1/enterprises/{ent}/tags/T9",
            json={"range_min": 10.0, "range_max": 0.0},
            headers=headers,
        )
        assert wrong.status_code == 422, wrong.text
        res = client.post(
            f"/api/v1/enterprises/{ent}/tags/import",
            files={"file": ("tags.csv", IMPORT.encode(), "text/csv")},
            headers=headers,
        )
        assert res.status_code == 200, res.text
        assert res.json()["created"] == 1, res.json()
        listed = {
            t["tag"]: t
            for t in client.get(f"/api/v1/enterprises/{ent}/tags", headers=headers).json()["items"]
        }
        assert (listed["T2.LT"]["range_min"], listed["T2.LT"]["range_max"]) == (-5.0, 5.0)

    dev = Device(settings, ent)
    try:
        async with running_ingest(settings, pool):
            sent = [
                ({"tag": "T1.PT", "value": 12.5}, "value_outside_tag_range"),
                ({"tag": "T1.PT", "value": -0.1}, "value_outside_tag_range"),
                ({"tag": "T2.LT", "value": -7.0}, "value_outside_tag_range"),
                ({"tag": "T1.PT", "value": 1e13}, "value_out_of_range"),
                ({"tag": "T1.PT", "value": 10.0}, None),
                ({"tag": "T2.LT", "value": -5.0}, None),
                ({"tag": "UNREGISTERED", "value": 1e6}, None),
            ]
            for n, (point, _) in enumerate(sent):
                dev.send("telemetry", {"ts": ts(), "msg_id": f"m{n}", "points": [point]})
            refusals = [code for _, code in sent if code]

            async def settled() -> bool:
                refused = await scalar(pool, "SELECT count(*) FROM rejected_messages")
                stored = await scalar(pool, "SELECT count(*) FROM telemetry")
                return (refused, stored) == (len(refusals), len(sent) - len(refusals))

            await wait_until(settled, timeout=30, what="every reading stored or refused")

            async def answered() -> bool:
                return len(dev.of_kind("reject")) >= len(refusals)

            await wait_until(answered, timeout=30, what="every refusal answered on …/reject")
    finally:
        dev.close()
    got = sorted(r[0] for r in await rows(pool, "SELECT code FROM rejected_messages"))
    assert got == sorted(refusals)
    stored = sorted(await rows(pool, "SELECT tag, value FROM telemetry"))
    assert stored == [("T1.PT", 10.0), ("T2.LT", -5.0), ("UNREGISTERED", 1e6)]
    answers = {r["ref"]: r for r in dev.of_kind("reject")}
    first = answers["m0"]
    assert first["code"] == "value_outside_tag_range"
    assert "T1.PT" in first["reason"], first
    assert "[0, 10]" in first["reason"], first
    assert first["message"] == render("reject.value_outside_tag_range")
    assert re.search(r"[\u4e00-\u9fff]", first["message"])
    assert answers["m3"]["code"] == "value_out_of_range"
