"""Enterprise self-service: the manager adds and deactivates a reporter, keeps the contacts for
notices; a reporter manages nothing; every account changes its own password."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from config.settings import Settings
from tests.integration.apiclient import PASSWORD, add_user, login, seed


def test_manager_adds_a_reporter_who_reports_but_manages_nothing(
    settings: Settings, db_url: str
) -> None:
    own, other = seed(db_url, 2)
    add_user(db_url, "mgr", "enterprise", own)
    add_user(db_url, "mgr_other", "enterprise", other)
    with TestClient(create_app(settings)) as client:
        mgr = login(client, "mgr", PASSWORD)
        res = client.post(
            f"/api/v1/enterprises/{own}/accounts",
            json={"username": "rep1", "display_name": "李上报", "password": "reporter-pass-1"},
            headers=mgr,
        )
        assert res.status_code == 201, res.text
        rep_id = res.json()["id"]
        assert res.json()["manager"] is False
        rep = login(client, "rep1", "reporter-pass-1")
        assert client.get(f"/api/v1/enterprises/{own}/status", headers=rep).status_code == 200
        denied = client.post(
            f"/api/v1/enterprises/{own}/accounts",
            json={"username": "rep2", "password": "reporter-pass-2"},
            headers={**rep, "Accept-Language": "zh-CN"},
        )
        assert denied.status_code == 403
        assert "管理员账号" in denied.json()["error"]["message"]
        contacts = {"contacts": [{"name": "张安全", "phone": "0994-1234567", "role": "安全负责人"}]}
        assert (
            client.put(f"/api/v1/enterprises/{own}/contacts", json=contacts, headers=rep)
        ).status_code == 403
        res = client.put(f"/api/v1/enterprises/{own}/contacts", json=contacts, headers=mgr)
        assert res.status_code == 200, res.text
        got = client.get(f"/api/v1/enterprises/{own}/contacts", headers=rep).json()
        assert got == contacts["contacts"]
        # another enterprise's manager reaches neither the accounts nor the contacts
        stranger = login(client, "mgr_other", PASSWORD)
        for method, path in (
            ("GET", f"/api/v1/enterprises/{own}/accounts"),
            ("POST", f"/api/v1/enterprises/{own}/accounts/{rep_id}/deactivate"),
            ("PUT", f"/api/v1/enterprises/{own}/contacts"),
        ):
            kw = {"json": contacts} if method == "PUT" else {}
            assert client.request(method, path, headers=stranger, **kw).status_code == 403
        res = client.post(
            f"/api/v1/enterprises/{other}/accounts/{rep_id}/deactivate", headers=stranger
        )
        assert res.status_code == 404  # not one of its reporters
        names = [
            a["username"]
            for a in client.get(f"/api/v1/enterprises/{own}/accounts", headers=mgr).json()
        ]
        assert names == ["mgr", "rep1"]
        res = client.post(f"/api/v1/enterprises/{own}/accounts/{rep_id}/deactivate", headers=mgr)
        assert res.status_code == 200
        assert res.json()["active"] is False
        assert client.get(f"/api/v1/enterprises/{own}/status", headers=rep).status_code == 401


def test_an_account_changes_its_own_password(settings: Settings, db_url: str) -> None:
    (own,) = seed(db_url, 1)
    add_user(db_url, "mgr", "enterprise", own)
    with TestClient(create_app(settings)) as client:
        h = {**login(client, "mgr", PASSWORD), "Accept-Language": "zh-CN"}
        wrong = client.post(
            "/api/v1/auth/password",
            json={"current_password": "not-it", "new_password": "a-new-password-1"},
            headers=h,
        )
        assert wrong.status_code == 422
        assert wrong.json()["error"]["message"] == "当前密码不正确"
        ok = client.post(
            "/api/v1/auth/password",
            json={"current_password": PASSWORD, "new_password": "a-new-password-1"},
            headers=h,
        )
        assert ok.status_code == 204, ok.text
        login(client, "mgr", "a-new-password-1")
        old = client.post("/api/v1/auth/token", data={"username": "mgr", "password": PASSWORD})
        assert old.status_code == 401
