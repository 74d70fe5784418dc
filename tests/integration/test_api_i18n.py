"""zh-CN first over HTTP: errors and alarm texts in the caller's language, the code beside them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from config.policy_monitoring import load_monitoring_policy
from config.settings import Settings
from domain.alarms import Rule
from domain.credit_code import make_credit_code
from domain.i18n import EN, msg, op_label, render
from domain.monitoring import EnterpriseId, raise_one
from services import alarms as alarm_service
from tests.integration.apiclient import admin, seed

CODE = make_credit_code("652301", 777)
BAD = CODE[:17] + ("0" if CODE[17] != "0" else "1")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def test_error_message_follows_accept_language_code_stays(client: TestClient) -> None:
    h = admin(client)
    zh = client.get(f"/api/v1/enterprises/{BAD}", headers=h).json()["error"]
    en = client.get(
        f"/api/v1/enterprises/{BAD}", headers=h | {"Accept-Language": "en-US,en;q=0.9"}
    ).json()["error"]
    assert zh["code"] == en["code"] == "validation_failed"
    assert "校验码" in zh["message"]
    assert "check character" in en["message"]
    # A route error without a catalogue entry: generic zh-CN text, the technical one as reason.
    res = client.get("/api/v1/nowhere", headers=h)
    assert res.status_code == 404
    assert res.json()["error"]["message"] == "未找到请求的记录"
    body = client.post("/api/v1/auth/token", data={"username": "x"}).json()["error"]
    assert body["code"] == "validation_failed"
    assert body["message"] == "请求不合法，请检查填写的内容"


def test_alarm_text_stored_in_chinese_and_rendered_for_the_reader(
    client: TestClient, settings: Settings
) -> None:
    ent = seed(settings.database_url, 1)[0]
    policy = load_monitoring_policy(settings.policy_dir)
    at = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
    message = msg(
        "alarm.gas_test_missing", op=op_label("hot_work", "special"), op_id="OP-9", minutes=30
    )
    outcome = raise_one(EnterpriseId(ent), Rule.GAS_TEST_MISSING, "op:OP-9", message, at=at)

    async def store() -> None:
        async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
            await alarm_service.apply_outcome(conn, outcome, rules=policy.rules, now=at)

    asyncio.run(store())
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute("SELECT message, message_code FROM alarms").fetchone()
    assert row == (render(message), "alarm.gas_test_missing")
    assert row[0].startswith("特级动火作业OP-9")
    h = admin(client)
    zh = client.get("/api/v1/alarms", headers=h).json()["items"][0]
    en = client.get("/api/v1/alarms", headers=h | {"Accept-Language": "en"}).json()["items"][0]
    assert zh["message"] == row[0]
    assert zh["title"] == policy.rules[Rule.GAS_TEST_MISSING].title
    assert en["message"] == render(message, EN)
    assert en["message"].startswith("special-grade hot work OP-9")
    assert zh["message_code"] == en["message_code"] == "alarm.gas_test_missing"


def test_vocabulary_for_the_pages(client: TestClient) -> None:
    zh = client.get("/public/v1/messages").json()
    en = client.get("/public/v1/messages", params={"lang": "en"}).json()
    assert zh["messages"]["term.draw_reason.yearly_cap_reached"] == "本年度被抽查次数已达上限"
    assert zh["messages"]["term.state.restart_requests.pending"] == "待审核"
    assert en["messages"]["term.state.restart_requests.pending"] == "pending"
    assert not [k for k in zh["messages"] if k.startswith(("alarm.", "error."))]


def test_former_english_errors_now_speak_the_readers_language(client: TestClient) -> None:
    """Errors that used to be English-only sentences (a zh-CN reader got a generic text) now
    carry their own catalogue text in both languages, specific about what to fix."""
    h = admin(client)
    en = h | {"Accept-Language": "en"}
    url = "/api/v1/alarms/987654"
    zh_body = client.get(url, headers=h).json()["error"]
    en_body = client.get(url, headers=en).json()["error"]
    assert zh_body["code"] == en_body["code"] == "not_found"
    assert zh_body["message"] == "告警987654不存在，请刷新告警列表"
    assert en_body["message"] == "Alarm 987654 does not exist"
    assert "reason" not in zh_body
    me = client.get("/api/v1/auth/me", headers=h).json()
    res = client.patch(f"/api/v1/users/{me['user_id']}", json={"active": False}, headers=h)
    assert res.status_code == 409
    assert res.json()["error"]["message"] == "管理员不能降低自己的角色或停用自己的账号"
    res = client.patch(f"/api/v1/users/{me['user_id']}", json={"active": False}, headers=en)
    assert (
        res.json()["error"]["message"] == "Administrators may not demote or deactivate themselves"
    )


def test_every_refusal_is_recorded_with_its_code_and_fields_not_its_values(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    h = admin(client)
    with caplog.at_level("INFO", logger="safewatch.api.refusals"):
        client.get(f"/api/v1/enterprises/{BAD}", headers=h)
        client.post("/api/v1/auth/token", data={"username": "13800138000"})
        client.get("/api/v1/alarms")
    lines = [r.getMessage() for r in caplog.records if r.name == "safewatch.api.refusals"]
    assert any(f"GET /api/v1/enterprises/{BAD}: 422 validation_failed" in x for x in lines)
    assert any("POST /api/v1/auth/token: 422 validation_failed fields=password" in x for x in lines)
    assert any("GET /api/v1/alarms: 401 unauthorized" in x for x in lines), lines
    assert not [x for x in lines if "13800138000" in x]  # the submitted values stay out
