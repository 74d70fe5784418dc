"""User management, sign-in throttling and the audit query."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from config.settings import Settings
from domain.throttle import ThrottlePolicy
from tests.integration.apiclient import admin, error_code, login, seed


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def _create(client: TestClient, headers: dict[str, str], **body: object) -> dict[str, object]:
    res = client.post("/api/v1/users", json=body, headers=headers)
    assert res.status_code == 201, res.text
    return dict(res.json())


def test_admin_creates_changes_and_deactivates_a_user(client: TestClient) -> None:
    h = admin(client)
    user = _create(
        client, h, username="wang", display_name="王", password="wang-pass-12", role="duty"
    )
    assert user["role"] == "duty"
    assert "password" not in user
    assert "password_hash" not in user
    duty = login(client, "wang", "wang-pass-12")
    assert client.get("/api/v1/users", headers=duty).status_code == 403

    res = client.patch(f"/api/v1/users/{user['id']}", json={"role": "supervisor"}, headers=h)
    assert res.status_code == 200, res.text
    assert res.json()["role"] == "supervisor"
    res = client.delete(f"/api/v1/users/{user['id']}", headers=h)
    assert res.json()["active"] is False
    refused = client.post(
        "/api/v1/auth/token", data={"username": "wang", "password": "wang-pass-12"}
    )
    assert refused.status_code == 401

    listed = client.get("/api/v1/users", params={"role": "supervisor"}, headers=h).json()
    assert [u["username"] for u in listed["items"]] == ["wang"]
    assert listed["total"] == 1
    audit = client.get("/api/v1/audit", params={"target": f"user:{user['id']}"}, headers=h).json()
    assert [e["action"] for e in audit["items"]] == [
        "user.deactivate",
        "user.update",
        "user.create",
    ]
    assert audit["items"][1]["before"]["role"] == "duty"
    assert audit["items"][1]["after"]["role"] == "supervisor"
    assert audit["items"][0]["username"] == "admin"
    assert audit["items"][0]["client_ip"] == "testclient"
    assert "password" not in str(audit["items"][2]["after"])


def test_enterprise_account_is_bound_to_a_valid_known_credit_code(
    client: TestClient, db_url: str
) -> None:
    h = admin(client)
    [code, *_] = seed(db_url, 2)
    base = {"username": "ent1", "password": "ent-pass-1234", "role": "enterprise"}
    res = client.post("/api/v1/users", json=base, headers=h)
    assert res.status_code == 422
    assert "统一社会信用代码" in res.json()["error"]["message"]
    bad = code[:17] + ("0" if code[17] != "0" else "1")
    res = client.post("/api/v1/users", json=base | {"enterprise_id": bad}, headers=h)
    assert res.status_code == 422
    assert "校验码" in res.json()["error"]["message"]
    unknown = "91330102MA00000000"
    res = client.post("/api/v1/users", json=base | {"enterprise_id": unknown}, headers=h)
    assert res.status_code == 422
    res = client.post(
        "/api/v1/users", json=base | {"role": "duty", "enterprise_id": code}, headers=h
    )
    assert res.status_code == 422
    user = _create(client, h, **(base | {"enterprise_id": code}))
    assert user["enterprise_id"] == code
    me = client.get("/api/v1/auth/me", headers=login(client, "ent1", "ent-pass-1234")).json()
    assert me["enterprise_id"] == code
    # leaving the enterprise role drops the binding
    res = client.patch(f"/api/v1/users/{user['id']}", json={"role": "inspector"}, headers=h)
    assert res.json()["enterprise_id"] is None


def test_duplicate_username_is_a_conflict(client: TestClient) -> None:
    h = admin(client)
    _create(client, h, username="li", password="li-pass-12345", role="inspector")
    res = client.post(
        "/api/v1/users", json={"username": "li", "password": "x" * 12, "role": "duty"}, headers=h
    )
    assert res.status_code == 409
    assert error_code(res) == "conflict"


def test_admin_cannot_lock_out_every_admin(client: TestClient) -> None:
    h = admin(client)
    me = client.get("/api/v1/auth/me", headers=h).json()
    res = client.patch(f"/api/v1/users/{me['user_id']}", json={"active": False}, headers=h)
    assert res.status_code == 409
    assert res.json()["error"]["message"] == "管理员不能降低自己的角色或停用自己的账号"
    other = _create(client, h, username="root2", password="root2-pass-123", role="admin")
    h2 = login(client, "root2", "root2-pass-123")
    assert client.delete(f"/api/v1/users/{me['user_id']}", headers=h2).status_code == 200
    res = client.delete(f"/api/v1/users/{other['id']}", headers=h2)
    assert res.status_code == 409


def test_unknown_user_and_bad_input(client: TestClient) -> None:
    h = admin(client)
    assert client.get("/api/v1/users/999999", headers=h).status_code == 404
    res = client.post("/api/v1/users", json={"username": "x y", "password": "short"}, headers=h)
    assert res.status_code == 422
    assert error_code(res) == "validation_failed"
    res = client.patch("/api/v1/users/1", json={"nope": 1}, headers=h)
    assert res.status_code == 422


def test_repeated_failures_lock_the_username_with_a_clear_429(client: TestClient) -> None:
    client.app.state.login_throttle = ThrottlePolicy(per_user=3, per_ip=100)  # type: ignore[attr-defined]
    for _ in range(3):
        res = client.post("/api/v1/auth/token", data={"username": "admin", "password": "wrong"})
        assert res.status_code == 401
    res = client.post("/api/v1/auth/token", data={"username": "admin", "password": "wrong"})
    assert res.status_code == 429
    assert error_code(res) == "too_many_requests"
    assert res.json()["error"]["details"]["scope"] == "username"
    wait = int(res.headers["Retry-After"])
    assert 0 < wait <= 15 * 60
    # the reader's language, with the wait: zh-CN by default, English on request
    assert res.json()["error"]["message"] == f"该用户名连续输错密码次数过多，请在 {wait} 秒后再试"
    res = client.post(
        "/api/v1/auth/token",
        data={"username": "admin", "password": "wrong"},
        headers={"Accept-Language": "en"},
    )
    assert res.status_code == 429
    assert res.json()["error"]["message"].startswith("Too many failed password attempts")
    # even the right password is refused while locked
    from tests.conftest import TEST_ADMIN_PASSWORD

    res = client.post(
        "/api/v1/auth/token", data={"username": "admin", "password": TEST_ADMIN_PASSWORD}
    )
    assert res.status_code == 429


def test_a_success_resets_the_username_count(client: TestClient) -> None:
    client.app.state.login_throttle = ThrottlePolicy(per_user=3, per_ip=100)  # type: ignore[attr-defined]
    for _ in range(2):
        client.post("/api/v1/auth/token", data={"username": "admin", "password": "wrong"})
    admin(client)
    for _ in range(2):
        res = client.post("/api/v1/auth/token", data={"username": "admin", "password": "wrong"})
        assert res.status_code == 401


def test_many_usernames_from_one_address_lock_the_address(client: TestClient) -> None:
    client.app.state.login_throttle = ThrottlePolicy(per_user=100, per_ip=4)  # type: ignore[attr-defined]
    for i in range(4):
        res = client.post("/api/v1/auth/token", data={"username": f"u{i}", "password": "x"})
        assert res.status_code == 401
    res = client.post("/api/v1/auth/token", data={"username": "someone", "password": "x"})
    assert res.status_code == 429
    assert res.json()["error"]["details"]["scope"] == "client_ip"


def test_audit_filters_and_pagination(client: TestClient) -> None:
    h = admin(client)
    for i in range(3):
        _create(client, h, username=f"p{i}", password="p-pass-123456", role="duty")
    page = client.get("/api/v1/audit", params={"action": "user", "limit": 2}, headers=h).json()
    assert page["total"] == 3
    assert len(page["items"]) == 2
    rest = client.get(
        "/api/v1/audit", params={"action": "user", "limit": 2, "offset": 2}, headers=h
    ).json()
    assert len(rest["items"]) == 1
    res = client.get(
        "/api/v1/audit",
        params={"since": "2026-01-02T00:00:00+08:00", "until": "2026-01-01T00:00:00+08:00"},
        headers=h,
    )
    assert res.status_code == 422
    res = client.get("/api/v1/audit", params={"since": "2026-01-02T00:00:00"}, headers=h)
    assert res.status_code == 422


async def test_old_sign_in_attempts_are_pruned(pool) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from storage import login_attempts

    async with pool.connection() as conn:
        await login_attempts.record(conn, username="x", client_ip="1.2.3.4", outcome="failed")
        await conn.execute("UPDATE login_attempts SET ts = now() - interval '3 days'")
        await login_attempts.record(conn, username="y", client_ip="1.2.3.4", outcome="failed")
        assert await login_attempts.prune(conn, keep=timedelta(days=2)) == 1


def test_tokens_stop_working_when_the_account_is_deactivated_or_changes_role(
    client: TestClient,
) -> None:
    h = admin(client)
    user = _create(
        client, h, username="li", display_name="李", password="li-pass-1234", role="supervisor"
    )
    token = login(client, "li", "li-pass-1234")
    assert client.get("/api/v1/auth/me", headers=token).status_code == 200
    client.patch(f"/api/v1/users/{user['id']}", json={"role": "duty"}, headers=h)
    res = client.get("/api/v1/auth/me", headers=token)
    assert res.status_code == 401
    assert "角色已变更" in res.json()["error"]["message"]
    token = login(client, "li", "li-pass-1234")
    assert client.get("/api/v1/auth/me", headers=token).status_code == 200
    client.delete(f"/api/v1/users/{user['id']}", headers=h)
    res = client.get("/api/v1/auth/me", headers=token)
    assert res.status_code == 401
    assert "已停用" in res.json()["error"]["message"]
