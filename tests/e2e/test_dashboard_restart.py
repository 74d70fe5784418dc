"""Browser: a restart request appears live, is reviewed (self-check, video panel) and approved;
the site receives the decision as a notice."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from config.settings import Settings
from tests.e2e import dashboard_support as support
from tests.e2e.dashboard_support import shot, sign_in
from tests.e2e.test_dashboard_alarms import _ts
from tests.integration.apiclient import seed
from tests.integration.liveserver import ServerThread
from tests.integration.monitor_support import Device

pytestmark = pytest.mark.e2e
browser, server, page, monitor = support.browser, support.server, support.page, support.monitor


def test_restart_request_is_reviewed_and_approved(
    page: Page,
    server: ServerThread,
    monitor: support.MonitorThread,
    settings: Settings,
    db_url: str,
) -> None:
    ent, *_ = seed(db_url, 2)
    sign_in(page, server)
    page.goto(f"{server.url}/ui/#/restarts")
    expect(page.locator("#restart-table")).to_contain_text("无")
    dev = Device(settings, ent)
    try:
        dev.send("presence", {"online": True})
        dev.send(
            "event",
            {"event_id": "s-1", "ts": _ts(-60), "type": "shutdown", "scope": "plant",
             "reason": "停产检修"},
        )  # fmt: skip
        dev.send(
            "event",
            {"event_id": "rr-1", "ts": _ts(-5), "type": "resume_request", "planned_at": _ts(86400),
             "self_check": [{"item": "安全设施完好", "ok": True},
                            {"item": "人员培训到位", "ok": False, "note": "2人待补训"}]},
        )  # fmt: skip
        row = page.locator("#restart-table tr[data-restart]")
        expect(row).to_have_count(1, timeout=3000)
        row.locator("a", has_text="审核").click()
        expect(page.locator("#self-check tr")).to_have_count(2)
        expect(page.locator("#self-check")).to_contain_text("2人待补训")
        expect(page.locator("#video-box button").first).to_be_visible()
        page.fill("#decision textarea[name=reason]", "视频复验：整改到位，同意复产")
        shot(page, "restart-review")
        page.click("#decision button[data-decide=approve]")
        expect(page.locator("#restart-table")).to_be_visible()
        page.select_option("#rr-state", "approved")
        expect(page.locator("#restart-table tr[data-restart]")).to_have_count(1)
        deadline = time.monotonic() + 10
        while not dev.of_kind("notice") and time.monotonic() < deadline:
            time.sleep(0.05)
        notices = dev.of_kind("notice")
        assert notices, "the site never received the decision"
        assert "同意复产" in str(notices[0])
    finally:
        dev.close()
