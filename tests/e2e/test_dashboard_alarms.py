"""Browser: an MQTT event raises an alarm that appears within a second without a reload; it is
acknowledged and closed in dialogs; guidance shows its delivery state change when the site acks."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from config.settings import Settings
from tests.e2e import dashboard_support as support
from tests.e2e.dashboard_support import shot, sign_in
from tests.integration.apiclient import seed
from tests.integration.liveserver import ServerThread
from tests.integration.monitor_support import Device

pytestmark = pytest.mark.e2e
browser, server, page, monitor = support.browser, support.server, support.page, support.monitor


def _ts(delta_s: float = 0.0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=delta_s)).isoformat()


def _entry_without_gas_test(op_id: str) -> dict[str, object]:
    return {
        "event_id": f"start-{op_id}",
        "ts": _ts(-30),
        "type": "special_op_start",
        "op_id": op_id,
        "op_type": "confined_space",
        "permit_no": "SX-1",
        "valid_from": _ts(-60),
        "valid_to": _ts(3600),
        "location": "反应釜 R-2",
        "guardian": "李四",
        "guardian_cert": "JH-0001",
    }


def test_alarm_appears_live_then_is_acknowledged_and_closed(
    page: Page,
    server: ServerThread,
    monitor: support.MonitorThread,
    settings: Settings,
    db_url: str,
) -> None:
    ent, *_ = seed(db_url, 3)
    sign_in(page, server)
    page.click("#nav a[data-route=alarms]")
    expect(page.locator("#alarm-table")).to_contain_text("暂无报警")
    expect(page.locator("#live")).to_have_class("live on")
    page.evaluate("window.__marker = 1")
    dev = Device(settings, ent)
    try:
        dev.send("presence", {"online": True})
        started = time.monotonic()
        dev.send("event", _entry_without_gas_test("CS-1"))  # returns after the broker's PUBACK
        row = page.locator("#alarm-table tr[data-alarm]").first
        expect(row).to_be_visible(timeout=1000)
        elapsed = time.monotonic() - started
        assert elapsed < 1.0, f"alarm shown after {elapsed:.2f} s"
        assert page.evaluate("window.__marker") == 1  # no reload
        expect(row).to_contain_text("红")
        expect(page.locator("#alarm-badge")).to_be_visible()
        shot(page, "alarms")

        row.locator("button[data-ack]").click()
        expect(row.locator(".alarm-state")).to_contain_text("已确认")
        row.locator("button[data-close]").click()
        dialog = page.locator("#close-dialog")
        expect(dialog).to_be_visible()
        dialog.locator("textarea[name=action_taken]").fill("责令补做气体分析后再进入")
        shot(page, "alarm-close-dialog")
        dialog.locator("button[type=submit]").click()
        expect(page.locator("#alarm-table tr[data-alarm]")).to_have_count(0)
        page.select_option("select[name=state]", "closed")
        expect(page.locator("#alarm-table tr[data-state=closed]")).to_have_count(1)
    finally:
        dev.close()


def test_guidance_delivery_state_changes_when_the_site_acknowledges(
    page: Page,
    server: ServerThread,
    monitor: support.MonitorThread,
    settings: Settings,
    db_url: str,
) -> None:
    ent, *_ = seed(db_url, 2)
    dev = Device(settings, ent)
    try:
        dev.send("presence", {"online": True})
        sign_in(page, server)
        page.goto(f"{server.url}/ui/#/ent/{ent}")
        expect(page.locator("#ent-head h2")).to_be_visible()
        page.fill(
            "#guidance-form textarea[name=text]", "请立即停止罐区动火作业，重新进行气体分析。"
        )
        page.click("#guidance-form button[type=submit]")
        cell = page.locator("#guidance-list tr[data-guidance] td.delivery").first
        expect(cell).to_be_visible()
        deadline = time.monotonic() + 10
        sent: list[dict[str, object]] = []
        while not sent and time.monotonic() < deadline:
            sent = dev.of_kind("guidance")
            time.sleep(0.05)
        assert sent, "the site never received the guidance"
        assert sent[0]["text"] == "请立即停止罐区动火作业，重新进行气体分析。"
        expect(cell).not_to_have_attribute("data-state", "pending")
        dev.send("ack", {"ref": sent[0]["id"], "ts": _ts(), "by": "安全员 王五"})
        expect(cell).to_have_attribute("data-state", "acknowledged", timeout=2000)
        expect(cell).to_have_text("已确认")
        shot(page, "enterprise")
    finally:
        dev.close()


def test_enterprise_page_shows_operations_countdown_gas_and_trend(
    page: Page,
    server: ServerThread,
    monitor: support.MonitorThread,
    settings: Settings,
    db_url: str,
) -> None:
    import httpx

    from tests.conftest import TEST_ADMIN_PASSWORD

    ent, *_ = seed(db_url, 1)
    with httpx.Client(base_url=server.url) as c:
        token = c.post(
            "/api/v1/auth/token", data={"username": "admin", "password": TEST_ADMIN_PASSWORD}
        ).json()["access_token"]
        res = c.put(
            f"/api/v1/enterprises/{ent}/tags/V101.LT",
            json={"kind": "level", "unit": "m", "description": "V101 储罐液位", "hh": 9.0,
                  "h": 8.5, "l": 1.0, "ll": 0.5},
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
        assert res.status_code == 200, res.text
    dev = Device(settings, ent)
    try:
        dev.send("presence", {"online": True})
        points = [
            {"tag": "V101.LT", "value": 5 + (i % 7) * 0.5, "ts": _ts(-600 + i * 20)}
            for i in range(30)
        ]
        dev.send("telemetry", {"ts": _ts(), "points": points})
        hot = _entry_without_gas_test("HW-1") | {
            "event_id": "start-HW-1",
            "op_type": "hot_work",
            "grade": "2",
            "gas_test": {"o2_pct": 20.8, "lel_pct": 0.1, "gas": "CH4"},
        }
        dev.send("event", hot)
        sign_in(page, server)
        page.goto(f"{server.url}/ui/#/ent/{ent}")
        op = page.locator("#special-ops tr[data-op='HW-1']")
        expect(op).to_be_visible(timeout=5000)
        expect(op.locator(".countdown")).to_contain_text(":")
        expect(page.locator("#tag-pick option")).to_have_count(1)
        # 30 readings over 10 minutes, shown as 1-minute buckets
        expect(page.locator("#trend")).to_have_attribute("data-points", re.compile(r"^1[01]$"))
        shot(page, "enterprise-operations")
    finally:
        dev.close()
