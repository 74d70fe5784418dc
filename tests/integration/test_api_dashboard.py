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
