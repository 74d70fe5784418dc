"""Browser: create a plan, run a draw, see teams and exclusions; public draw and results pages."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e import dashboard_support as support
from tests.e2e.dashboard_support import shot, sign_in
from tests.integration.apiclient import seed
from tests.integration.liveserver import ServerThread
from tests.integration.test_api_draws import OFFICERS_CSV

pytestmark = pytest.mark.e2e
browser, server, page = support.browser, support.server, support.page


def _officers(server: ServerThread) -> None:
    with httpx.Client(base_url=server.url) as c:
        from tests.conftest import TEST_ADMIN_PASSWORD

        token = c.post(
            "/api/v1/auth/token", data={"username": "admin", "password": TEST_ADMIN_PASSWORD}
        ).json()["access_token"]
        res = c.post(
            "/api/v1/inspectors/import",
            files={"file": ("o.csv", OFFICERS_CSV.encode(), "text/csv")},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert res.status_code == 200, res.text


def test_plan_draw_and_public_pages(page: Page, server: ServerThread, db_url: str) -> None:
    seed(db_url, 30)
    _officers(server)
    sign_in(page, server)
    page.click("#nav a[data-route=plans]")
    form = page.locator("#plan-form")
    form.locator("input[name=plan_id]").fill("HZ-E2E")
    form.locator("input[name=title]").fill("浏览器测试计划")
    form.locator("input[name=ratio]").fill("0.3")
    form.locator("input[name=own_county_rule]").uncheck()
    form.locator("button[type=submit]").click()
    expect(page.locator("#draw-form")).to_be_visible()
    draw_form = page.locator("#draw-form")
    draw_form.locator("input[name=start]").fill("2026-12-01")
    draw_form.locator("input[name=end]").fill("2026-12-31")
    draw_form.locator("button[type=submit]").click()  # the test setting: no public value
    expect(page.locator("#teams tbody tr").first).to_be_visible()
    assert page.locator("#teams tbody tr").count() >= 5
    expect(page.locator("#teams")).to_contain_text("执法员")  # staff see names
    expect(page.locator("#public-source")).to_contain_text("无（仅测试）")
    shot(page, "draw")

    page.goto(server.url + "/public/")
    expect(page.locator("#public-draws tbody tr")).to_have_count(1)
    page.click("#public-draws a")
    expect(page.locator("#teams tbody tr").first).to_be_visible()
    expect(page.locator("#teams")).to_contain_text("P")  # the public sees pseudonyms
    expect(page.locator("#teams")).not_to_contain_text("执法员")
    expect(page.locator("body")).to_contain_text("化名")
    expect(page.locator("a[href='/public/v1/verifier.py']")).to_be_visible()
    shot(page, "public-draw")
    page.click("#pub-nav a[data-route=results]")
    expect(page.locator("#public-results")).to_be_visible()
    shot(page, "public-results")
