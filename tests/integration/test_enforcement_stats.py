"""Supervisors' statistics over the real records: JSON for the charts, CSV and XLSX exports."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from config.settings import Settings
from domain.clock import utcnow
from tests.integration.test_rectification_loop import FIRST, SECOND, _setup


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def test_statistics_count_outcomes_overrides_and_rectification(
    client: TestClient, db_url: str
) -> None:
    iid, _, team, ent, sup = _setup(client, db_url)
    url = f"/api/v1/inspections/{iid}/findings"
    f1 = client.post(url, json=FIRST, headers=team).json()
    f2 = client.post(url, json=SECOND | {"harm": "serious"}, headers=team).json()
    reason = "企业主动消除了危害后果，依法从轻处理"
    res = client.post(
        f"/api/v1/findings/{f2['id']}/decision",
        json={"decision": "lenient", "reason": reason},
        headers=team,
    )
    assert res.status_code == 200, res.text
    client.post(f"/api/v1/inspections/{iid}/rectification", headers=team)
    for f in (f1, f2):
        client.post(
            f"/api/v1/findings/{f['id']}/reinspection",
            json={"inspection_id": iid, "result": "passed"},
            headers=team,
        )
    today = utcnow().date()
    params = {
        "start": (today - timedelta(days=400)).isoformat(),
        "end": (today + timedelta(days=400)).isoformat(),
    }
    assert (
        client.get("/api/v1/enforcement/statistics", params=params, headers=ent).status_code == 403
    )
    res = client.get("/api/v1/enforcement/statistics", params=params, headers=sup)
    assert res.status_code == 200, res.text
    rows = res.json()["by_county_month"]
    total = {k: sum(r[k] for r in rows) for k in ("findings", "no_penalty", "cases", "lenient",
                                                   "overrides", "orders", "on_time")}  # fmt: skip
    assert total == {
        "findings": 2,
        "no_penalty": 1,
        "cases": 0,
        "lenient": 1,  # the officer's decision counts, and it is an override
        "overrides": 1,
        "orders": 1,
        "on_time": 1,
    }
    assert sum(r["planned"] for r in rows) >= 1
    items = {(i["item_code"], i["severity"]): i["findings"] for i in res.json()["by_item"]}
    assert items == {("SP-TRAIN-01", "minor"): 1, ("SP-SIGN-01", "general"): 1}

    listed = client.get("/api/v1/enforcement/overrides", headers=sup).json()
    assert [(f["id"], f["decision"], f["decision_reason"]) for f in listed] == [
        (f2["id"], "lenient", reason)
    ]
    assert client.get("/api/v1/enforcement/overrides", headers=team).status_code == 403
    csv = client.get(
        "/api/v1/enforcement/statistics", params=params | {"format": "csv"}, headers=sup
    )
    text = csv.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith('"区县","月份","计划检查","已完成检查"')
    xlsx = client.get(
        "/api/v1/enforcement/statistics", params=params | {"format": "xlsx"}, headers=sup
    )
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert [c.value for c in sheet[1]][:3] == ["区县", "月份", "计划检查"]
    bad = params | {"end": params["start"], "start": params["end"]}
    res = client.get("/api/v1/enforcement/statistics", params=bad, headers=sup)
    assert res.status_code == 422
    assert "统计期间无效" in res.json()["error"]["message"]
