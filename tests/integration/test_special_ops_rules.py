"""GB 30871-2022 gas rules end to end: a site publishes over the real broker, the ingest judges
against the shipped policy, the alarms land in PostgreSQL and reach the alarm list and the
duty board in zh-CN; a % LEL reading that names no gas is refused with a reject downlink."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from config.settings import Settings
from tests.integration.apiclient import admin
from tests.integration.monitor_support import Device, running_ingest, scalar, seed, ts, wait_for


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def start(op_id: str, op_type: str, n: int, gas_test: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """A start with its own guardian and location (no guardian conflict between the ops)."""
    return {
        "event_id": f"start-{op_id}",
        "ts": ts(-60),
        "type": "special_op_start",
        "op_id": op_id,
        "op_type": op_type,
        "permit_no": f"AQZYP-{op_id}",
        "valid_from": ts(-120),
        "valid_to": ts(3600),
        "location": f"装置区 {n}",
        "guardian": f"监护人{n}",
        "guardian_cert": f"JH-{n:04d}",
        "camera": f"CAM-{n}",  # 升级管理 may make hot work 特级 at night or on a holiday
        "gas_test": {"ts": ts(-90), **gas_test},
        **kw,
    }


def gas_test(event_id: str, op_id: str, **readings: Any) -> dict[str, Any]:
    return {"event_id": event_id, "ts": ts(-30), "type": "gas_test", "op_id": op_id, **readings}


async def test_oxygen_and_combustible_rules_reach_the_alarm_list_and_the_board(
    settings: Settings, pool, client: TestClient
) -> None:
    ent, *_ = await seed(pool, 1)
    dev = Device(settings, ent)
    try:
        async with running_ingest(settings, pool):
            # Oxygen: 21.0 % passes, 21.1 % fails without 富氧环境; 23.0 % passes with it.
            dev.send("event", start("CS-O2", "confined_space", 1, {"o2_pct": 21.0}))
            dev.send("event", gas_test("g-o2", "CS-O2", o2_pct=21.1))
            enriched = start("CS-EN", "confined_space", 2, {"o2_pct": 23.0}, oxygen_enriched=True)
            dev.send("event", enriched)
            # Combustibles by volume: methane 0.5 % vol passes, 0.6 % vol fails;
            # ammonia at 10 % LEL is 1.5 % vol and fails.
            dev.send(
                "event",
                start(
                    "HW-CH4",
                    "hot_work",
                    3,
                    {"o2_pct": 20.9, "combustible_vol_pct": 0.5, "gas": "CH4"},
                    grade="2",
                ),
            )
            dev.send("event", gas_test("g-ch4", "HW-CH4", combustible_vol_pct=0.6, gas="甲烷"))
            dev.send(
                "event",
                start(
                    "HW-NH3",
                    "hot_work",
                    4,
                    {"o2_pct": 20.9, "lel_pct": 10, "gas": "NH3"},
                    grade="2",
                ),
            )
            # % LEL without the gas or its LEL cannot be judged: refused at the edge.
            dev.send("event", gas_test("g-bad", "HW-CH4", lel_pct=3))

            async def judged() -> bool:
                events = await scalar(pool, "SELECT count(*) FROM events")
                refused = await scalar(pool, "SELECT count(*) FROM rejected_messages")
                return events == 6 and refused == 1 and bool(dev.of_kind("reject"))

            await wait_for(judged, what="events stored and the bad reading refused")
        (reject,) = dev.of_kind("reject")
        assert reject["ref"] == "g-bad"
        assert "gas" in reject["reason"]
        assert "5.3.2" in reject["reason"]

        alarms = client.get(
            "/api/v1/alarms",
            params={"ent": ent, "rule": "gas_out_of_limits"},
            headers={**admin(client), "Accept-Language": "zh-CN"},
        ).json()["items"]
        by_subject = {a["subject"]: a for a in alarms}
        assert sorted(by_subject) == ["op:CS-O2", "op:HW-CH4", "op:HW-NH3"]
        assert all(a["severity"] == "red" and not a["cleared"] for a in alarms)
        assert "氧含量21.1%" in by_subject["op:CS-O2"]["message"]
        assert "19.5%至21%" in by_subject["op:CS-O2"]["message"]
        assert "高于0.5%" in by_subject["op:HW-CH4"]["message"]
        nh3 = by_subject["op:HW-NH3"]["message"]
        assert "10%LEL" in nh3
        assert "折合1.5%" in nh3
        assert "二级动火作业" in nh3 or "一级动火作业" in nh3  # 一级 when 升级管理 applies

        tests = await scalar(
            pool,
            "SELECT count(*) FILTER (WHERE ok) FROM gas_tests WHERE enterprise_id = %(e)s",
            {"e": ent},
        )
        assert tests == 3  # CS-O2 21.0, CS-EN 23.0 (enriched), HW-CH4 0.5 % vol

        every = client.get("/api/v1/alarms", params={"ent": ent}, headers=admin(client)).json()
        # HW-NH3 also started without an acceptable analysis: a failed one does not count.
        assert sorted((a["rule"], a["subject"]) for a in every["items"]) == [
            ("gas_out_of_limits", "op:CS-O2"),
            ("gas_out_of_limits", "op:HW-CH4"),
            ("gas_out_of_limits", "op:HW-NH3"),
            ("gas_test_missing", "op:HW-NH3"),
        ]
        board = client.get("/api/v1/dashboard/board", headers=admin(client)).json()
        rows = {r[0]: dict(zip(board["columns"], r, strict=True)) for r in board["rows"]}
        assert rows[ent]["alarms"] == 4
        assert rows[ent]["alarm_severity"] == "red"
        assert rows[ent]["special_ops"] == {"confined_space": 2, "hot_work": 2}

        status = client.get(f"/api/v1/enterprises/{ent}/status", headers=admin(client)).json()
        labels = {o["op_id"]: o for o in status["special_ops"]}
        assert labels["CS-EN"]["label"] == "受限空间作业"
        assert labels["CS-EN"]["oxygen_enriched"] is True
        hot = labels["HW-CH4"]
        # Grades are shown by name; 升级管理 (night, rest day, holiday) raises 二级 to 一级.
        expected = "一级动火作业" if hot["reported_grade"] == "2" else "二级动火作业"
        assert hot["label"] == expected
        assert hot["guardian_cert"] == "JH-0003"
    finally:
        dev.close()
