"""Health reports database and broker; metrics are Prometheus text; the token flow works."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from config.settings import Settings
from monitor.broker import free_port
from tests.conftest import TEST_ADMIN_PASSWORD


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def test_healthz_is_ok_with_database_and_broker(client: TestClient) -> None:
    res = client.get("/healthz")
    assert res.status_code == 200, res.text
    assert res.json()["database"]["ok"]
    assert res.json()["broker"]["ok"]


def test_healthz_reports_a_stopped_broker_as_unhealthy(settings: Settings) -> None:
    dead = settings.model_copy(update={"mqtt_url": f"mqtt://127.0.0.1:{free_port()}"})
    with TestClient(create_app(dead)) as c:
        res = c.get("/healthz")
    assert res.status_code == 503
    body = res.json()
    assert body["status"] == "unhealthy"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    assert "cannot reach" in body["broker"]["detail"]


def test_metrics_are_prometheus_text(client: TestClient) -> None:
    res = client.get("/metrics")
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/plain")
    assert "python_info" in res.text


def test_admin_token_flow(client: TestClient) -> None:
    bad = client.post("/api/v1/auth/token", data={"username": "admin", "password": "nope"})
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "unauthorized"
    res = client.post(
        "/api/v1/auth/token", data={"username": "admin", "password": TEST_ADMIN_PASSWORD}
    )
    assert res.status_code == 200, res.text
    token = res.json()["access_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "admin"


def test_missing_or_forged_token_is_refused_in_the_one_shape(client: TestClient) -> None:
    assert client.get("/api/v1/auth/me").json()["error"]["code"] == "unauthorized"
    res = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer abc.def.ghi"})
    assert res.status_code == 401
    assert set(res.json()) == {"error"}


def test_unknown_path_uses_the_error_shape(client: TestClient) -> None:
    res = client.get("/nope")
    assert res.status_code == 404
    assert res.json()["error"]["code"] == "not_found"
