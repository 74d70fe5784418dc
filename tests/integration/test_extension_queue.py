"""The supervisors' extension queue: pending requests listed with their order and enterprise; an
approval may grant a shorter deadline than asked, never a longer one; a refusal needs a reason;
both audited with the deadline granted."""

from __future__ import annotations

from datetime import timedelta

import psycopg
from fastapi.testclient import TestClient

from tests.integration.test_rectification_loop import (
    FIRST,
    LATER,
    SOON,
    _setup,
    client,  # noqa: F401  (fixture)
)


def test_queue_and_a_shorter_deadline_granted(client: TestClient, db_url: str) -> None:  # noqa: F811
    iid, code, team, ent, sup = _setup(client, db_url)
    assert client.post(f"/api/v1/inspections/{iid}/findings", json=FIRST, headers=team).is_success
    order = client.post(f"/api/v1/inspections/{iid}/rectification", headers=team).json()
    oid = order["id"]
    assert order["deadline"] == SOON.isoformat()
    asked = SOON + timedelta(days=20)
    res = client.post(
        f"/api/v1/rectifications/{oid}/extensions",
        json={"requested_deadline": asked.isoformat(), "reason": "设备采购周期较长，需延期"},
        headers=ent,
    )
    assert res.status_code == 201, res.text
    ext = res.json()["id"]
    assert client.get("/api/v1/rectification-extensions", headers=team).status_code == 403
    [queued] = client.get("/api/v1/rectification-extensions?state=pending", headers=sup).json()
    assert (queued["id"], queued["doc_no"], queued["enterprise_id"]) == (ext, order["doc_no"], code)
    assert queued["current_deadline"] == SOON.isoformat()
    assert queued["requested_deadline"] == asked.isoformat()
    decide = f"/api/v1/rectification-extensions/{ext}/decide"
    too_far = {
        "approve": True,
        "reason": "同意延期至申请日期之后",
        "deadline": (asked + timedelta(days=1)).isoformat(),
    }
    res = client.post(decide, json=too_far, headers=sup)
    assert res.status_code == 422, res.text
    assert "不能晚于企业申请的期限" in res.json()["error"]["details"]["deadline"]
    res = client.post(decide, json={"approve": False, "reason": ""}, headers=sup)
    assert res.status_code == 422  # a refusal without a reason
    granted = {"approve": True, "reason": "同意延期十日", "deadline": LATER.isoformat()}
    res = client.post(decide, json=granted, headers=sup)
    assert res.status_code == 200, res.text
    assert res.json()["deadline"] == LATER.isoformat()
    [decided] = res.json()["extensions"]
    assert (decided["state"], decided["granted_deadline"]) == ("approved", LATER.isoformat())
    assert client.get("/api/v1/rectification-extensions?state=pending", headers=sup).json() == []
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT after FROM audit_log WHERE action = 'rectification.extension_approved'"
            " AND target = %s",
            (f"rectification_extension:{ext}",),
        ).fetchone()
    assert row is not None
    assert row[0]["deadline"] == LATER.isoformat()
    assert row[0]["requested_deadline"] == asked.isoformat()
