"""Dashboard pages, static assets (no path tricks) and the board snapshot per role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from config.settings import Settings
from tests.integration.apiclient import admin, role_headers, seed


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def test_pages_and_assets(client: TestClient) -> None:
    res = client.get("/", follow_redirects=False)
    assert res.status_code == 307
    assert res.headers["location"] == "/ui/"
    page = client.get("/ui/")
    assert page.status_code == 200
    assert 'lang="zh-CN"' in page.text
    assert "/static/app.js" in page.text
    js = client.get("/static/app.js")
    assert js.headers["content-type"].startswith("text/javascript")
    assert "https://" not in js.text  # everything ships with the package, no CDN
    for bad in (
        "/static/../routes/dashboard.py",
        "/static/%2e%2e/app.py",
        "/static/verifier.py",
        "/static/nope.js",
        "/static/APP.JS",
    ):
        res = client.get(bad)
        assert res.status_code == 404, bad
        assert res.json()["error"]["code"] == "not_found"


def test_board_snapshot_for_staff_and_for_an_enterprise(client: TestClient, db_url: str) -> None:
    codes = seed(db_url, 8)
    roles = role_headers(client, db_url, codes[3])
    snap = client.get("/api/v1/dashboard/board", headers=roles["duty"]).json()
    assert snap["columns"][0] == "credit_code"
    assert [r[0] for r in snap["rows"]] == sorted(codes)
    assert sum(snap["facets"]["county"].values()) == 8
    assert isinstance(snap["live_id"], int)
    own = client.get("/api/v1/dashboard/board", headers=roles["enterprise"]).json()
    assert [r[0] for r in own["rows"]] == [codes[3]]
    some = client.get(
        "/api/v1/dashboard/board", params={"codes": f"{codes[0]},{codes[1]}"}, headers=admin(client)
    ).json()
    assert sorted(r[0] for r in some["rows"]) == sorted(codes[:2])
    res = client.get("/api/v1/dashboard/board", params={"codes": "X"}, headers=roles["duty"])
    assert res.status_code == 422
    assert client.get("/api/v1/dashboard/board").status_code == 401


def test_board_rows_carry_status_presence_alarms_and_operations(
    client: TestClient, db_url: str
) -> None:
    import psycopg

    a, b, c, *_ = seed(db_url, 4)
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO enterprise_status (enterprise_id, mode, presence_online, last_activity_at)"
            " VALUES (%s, 'shutdown', true, now()),"
            " (%s, 'operating', true, now() - interval '1 h')",
            (a, b),
        )
        conn.execute(
            "INSERT INTO alarms (enterprise_id, rule, subject, severity, message, raised_at,"
            " last_seen_at, ack_due_at) VALUES (%s, 'offline', 'site', 'orange', 'm', now(),"
            " now(), now()), (%s, 'gas_out_of_limits', 'op:1', 'red', 'm', now(), now(), now())",
            (b, b),
        )
        conn.execute(
            "INSERT INTO special_operations (enterprise_id, op_id, op_type, permit_no, valid_from,"
            " valid_to, location, state, started_at) VALUES (%s, 'op1', 'hot_work', 'P1', now(),"
            " now() + interval '8 h', '罐区', 'active', now())",
            (a,),
        )
        conn.execute(
            "INSERT INTO maintenance_jobs (enterprise_id, maint_id, scope, started_at)"
            " VALUES (%s, 'm1', 'plant', now())",
            (c,),
        )
    snap = client.get("/api/v1/dashboard/board", headers=admin(client)).json()
    rows = {r[0]: dict(zip(snap["columns"], r, strict=True)) for r in snap["rows"]}
    assert rows[a]["state"] == "shutdown"
    assert rows[a]["online"] is True
    assert rows[a]["special_ops"] == {"hot_work": 1}
    assert rows[b]["online"] is False  # silent for an hour
    assert (rows[b]["alarms"], rows[b]["alarm_severity"]) == (2, "red")
    assert rows[c]["state"] == "maintenance_whole"
    assert rows[c]["maintenance"] is True
    assert rows[c]["online"] is None  # never reported
