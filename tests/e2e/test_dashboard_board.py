"""Browser: sign in, the status board with filters and counts, live row updates, languages."""

from __future__ import annotations

import psycopg
import pytest
from playwright.sync_api import Page, expect

from tests.e2e import dashboard_support as support
from tests.e2e.dashboard_support import shot, sign_in
from tests.integration.apiclient import seed
from tests.integration.liveserver import ServerThread

pytestmark = pytest.mark.e2e
browser, server, page = support.browser, support.server, support.page


def test_wrong_password_is_shown_and_right_one_signs_in(page: Page, server: ServerThread) -> None:
    page.goto(server.url + "/")
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator(".brand")).to_have_text("安全生产远程监管值班台")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "wrong-password")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_contain_text("登录失败")
    shot(page, "login")
    sign_in(page, server)
    expect(page.locator("#nav a[data-route=board]")).to_have_class("on")


def test_board_lists_filters_and_counts(page: Page, server: ServerThread, db_url: str) -> None:
    seed(db_url, 24)
    sign_in(page, server)
    rows = page.locator("#board tbody tr")
    expect(rows).to_have_count(24)
    expect(page.locator("[data-count=enterprises] b")).to_have_text("24")
    page.select_option("select[name=county]", "昌吉市")
    expect(rows).to_have_count(3)
    expect(page.locator("[data-count=enterprises] b")).to_have_text("3")
    shot(page, "board")
    page.click("#layout")
    expect(page.locator("#tiles .tile").first).to_be_visible()
    shot(page, "board-big-screen")
    page.click("#lang")
    expect(page.locator("#nav a[data-route=board]")).to_have_text("Status board")


def test_board_row_changes_live_without_reload(
    page: Page, server: ServerThread, db_url: str
) -> None:
    codes = seed(db_url, 5)
    sign_in(page, server)
    expect(page.locator("#live")).to_have_class("live on")
    page.evaluate("window.__marker = 1")
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "UPDATE enterprises SET name = '实时改名有限公司' WHERE credit_code = %s", (codes[2],)
        )
        conn.execute(
            "INSERT INTO live_changes (kind, enterprise_id, payload) VALUES ('status', %s, '{}')",
            (codes[2],),
        )
    expect(page.locator(f"#board tr[data-code='{codes[2]}']")).to_contain_text(
        "实时改名有限公司", timeout=1500
    )
    assert page.evaluate("window.__marker") == 1  # no reload happened


def test_enterprise_account_sees_only_its_own_pages(
    page: Page, server: ServerThread, db_url: str
) -> None:
    from tests.integration.apiclient import PASSWORD, add_user

    own, other, *_ = seed(db_url, 5)
    add_user(db_url, "ent-user", "enterprise", own)
    sign_in(page, server, "ent-user", PASSWORD)
    expect(page.locator("#ent-head h2")).to_be_visible()
    assert page.url.endswith(f"#/ent/{own}")
    expect(page.locator("#nav a[data-route=plans]")).to_be_hidden()
    expect(page.locator("#nav a[data-route=users]")).to_be_hidden()
    expect(page.locator("#guidance-form")).to_have_count(0)
    page.click("#nav a[data-route=board]")
    expect(page.locator("#board tbody tr")).to_have_count(1)
    page.goto(f"{server.url}/ui/#/ent/{other}")
    expect(page.locator("#view .error")).to_contain_text("无权访问")
    shot(page, "enterprise-account")
