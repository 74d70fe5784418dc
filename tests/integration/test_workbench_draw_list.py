"""A drawn inspection carries its draw's inspection-item list (抽查事项清单): the inspection page
offers those items with the catalogue's legal basis and penalty article, and the API refuses a
finding naming a catalogue entry the list does not link to (zh-CN, field by field); an
inspection made by hand (重点、举报、复查) takes the whole catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from config.settings import Settings
from demo.directory import demo_items
from domain.clock import utcnow
from tests.integration.apiclient import add_user, login
from tests.integration.test_api_draws import _drawn
from tests.integration.test_workbench_teams import _first_inspection
from tests.integration.workbench_support import inspector_as, team_inspector

SOON = (utcnow().date() + timedelta(days=15)).isoformat()
TRAINING = {
    "item_code": "SP-TRAIN-01",
    "legal_basis": "安全生产法 第二十八条",
    "cause": "新入职员工3人未经三级安全教育即上岗作业",
    "measure": "组织补训并考核合格后上岗，建立培训档案",
    "deadline": SOON,
    "severity": "minor",
    "harm": "none",
}
#: 安全警示标志 (安全生产法 第三十五条): the test unlinks it from the demo list's item AQ-17.
SIGNS = TRAINING | {
    "item_code": "SP-SIGN-01",
    "legal_basis": "安全生产法 第三十五条",
    "cause": "储罐区入口未设置安全警示标志，夜间照明不足",
    "measure": "在储罐区入口设置符合国家标准的安全警示标志",
}
NOT_ON_LIST = (
    "检查项SP-SIGN-01不在本次双随机抽查的抽查事项清单内：抽中企业只检查清单所列事项，"
    "请从本次检查的清单中选择"
)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def _sector(db_url: str, code: str) -> str:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT sector FROM enterprises WHERE credit_code = %s", (code,))
        return str(row.fetchone()[0])  # type: ignore[index]


def test_a_drawn_inspection_offers_and_takes_only_its_lists_items(
    client: TestClient, db_url: str
) -> None:
    h, drawn, _ = _drawn(client, db_url)
    iid, code = _first_inspection(db_url, drawn["id"])
    team = team_inspector(client, db_url, iid)
    with psycopg.connect(db_url) as conn:  # the bureau links no catalogue entry to AQ-17 (yet)
        conn.execute("UPDATE inspection_items SET checklist_codes = '{}' WHERE item_id = 'AQ-17'")

    page = client.get(f"/api/v1/inspections/{iid}", headers=team).json()
    assert page["findings_from_list"] is True
    sector = _sector(db_url, code)
    expected = sorted(i.item_id for i in demo_items() if i.applies_to(sector))
    assert [i["item_id"] for i in page["list_items"]] == expected
    training = next(i for i in page["list_items"] if i["item_id"] == "AQ-02")
    assert training["item"] == "安全生产教育和培训"
    [entry] = training["checklist"]
    assert (entry["code"], entry["legal_basis"], entry["penalty_basis"]) == (
        "SP-TRAIN-01",
        "安全生产法 第二十八条",
        "安全生产法 第九十七条",
    )
    offered = {e["code"] for i in page["list_items"] for e in i["checklist"]}
    assert "SP-SIGN-01" not in offered
    assert next(i for i in page["list_items"] if i["item_id"] == "AQ-17")["checklist"] == []
    assert page["hazard_criteria"] is None or page["hazard_criteria"]["criteria"]

    url = f"/api/v1/inspections/{iid}/findings"
    refused = client.post(url, json=SIGNS, headers=team)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"] == {"item_code": NOT_ON_LIST}
    with psycopg.connect(db_url) as conn:
        stored = conn.execute("SELECT count(*) FROM findings WHERE inspection_id = %s", (iid,))
        assert stored.fetchone() == (0,)  # nothing was written
    accepted = client.post(url, json=TRAINING, headers=team)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["penalty_basis"] == "安全生产法 第九十七条"

    # The list stays as the draw made it when the bureau edits its item list afterwards.
    with psycopg.connect(db_url) as conn:
        conn.execute("UPDATE inspection_items SET item = '已改名' WHERE item_id = 'AQ-02'")
    again = client.get(f"/api/v1/inspections/{iid}", headers=h).json()
    assert next(i for i in again["list_items"] if i["item_id"] == "AQ-02")["item"] == (
        "安全生产教育和培训"
    )

    # Made by hand for the same enterprise: the whole catalogue, no list.
    add_user(db_url, "dl_sup", "supervisor")
    sup = login(client, "dl_sup", "role-password-1234")
    today = utcnow().date()
    made = client.post(
        "/api/v1/inspections",
        json={
            "credit_code": code,
            "source": "complaint",
            "reason": "12345 热线举报储罐区无警示标志",
            "planned_from": today.isoformat(),
            "planned_to": (today + timedelta(days=5)).isoformat(),
            "staff": [
                {"officer_id": "ZF-001", "role": "leader"},
                {"officer_id": "ZF-002", "role": "member"},
            ],
        },
        headers=sup,
    )
    assert made.status_code == 201, made.text
    by_hand = made.json()["id"]
    leader = inspector_as(client, db_url, "ZF-001")
    page = client.get(f"/api/v1/inspections/{by_hand}", headers=leader).json()
    assert (page["findings_from_list"], page["list_items"]) == (False, [])
    res = client.post(f"/api/v1/inspections/{by_hand}/findings", json=SIGNS, headers=leader)
    assert res.status_code == 201, res.text
