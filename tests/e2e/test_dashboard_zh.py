"""Browser, zh-CN: every page a duty officer or the public opens reads in Chinese — board, alarm
queue, enterprise page, restart review, plans, draws and the public pages show no Latin-only
message (codes, ids, hashes and units aside) on the Changji demo data."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from playwright.sync_api import Page, expect

import safewatch
from config.policy import load_policies
from config.settings import Settings
from tests.e2e import dashboard_support as support
from tests.e2e.dashboard_support import shot, sign_in
from tests.e2e.test_dashboard_alarms import _ts
from tests.integration.liveserver import ServerThread
from tests.integration.monitor_support import Device

pytestmark = pytest.mark.e2e
browser, server, page, monitor = support.browser, support.server, support.page, support.monitor

#: Latin words a zh-CN page may show: the language switch, file formats, units, algorithms.
ALLOWED = ["EN", "CSV", "XLSX", "JSON", "json", "ppm", "LEL", "SHA", "draw", "py", "python3"]
#: Visible text nodes with a Latin word and no Chinese character: a message left in English.
LATIN_ONLY = """(allowed) => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const el = walk.currentNode.parentElement;
    if (!el || el.closest(".mono, script, style, code, pre, #who, select")) continue;
    if (!el.getClientRects().length) continue;
    const text = walk.currentNode.textContent.trim();
    if (!text || /[\\u3400-\\u9fff]/.test(text)) continue;
    const words = (text.replace(/[A-Za-z0-9_.:-]*\\d[A-Za-z0-9_.:-]*/g, " ")
      .match(/[A-Za-z]{2,}/g) || []).filter((w) => !allowed.includes(w));
    if (words.length) out.push(text);
  }
  return out;
}"""


def _no_latin_only(page: Page, where: str) -> None:
    found = page.evaluate(LATIN_ONLY, ALLOWED)
    assert not found, f"{where}: Latin-only text on a zh-CN page: {found[:10]}"


def _site_activity(settings: Settings, ent: str) -> None:
    dev = Device(settings, ent)
    try:
        dev.send("presence", {"online": True})
        for body in (
            {"event_id": "op-1", "ts": _ts(-900), "type": "special_op_start", "op_id": "DH-001",
             "op_type": "hot_work", "grade": "1", "permit_no": "ZYP-001",
             "valid_from": _ts(-1000), "valid_to": _ts(3 * 3600), "location": "罐区 T-101",
             "guardian": "", "guardian_cert": "JH-001"},
            {"event_id": "tr-1", "ts": _ts(-600), "type": "trial_start", "trial_id": "TR-1",
             "planned_end": _ts(380 * 86400)},
            {"event_id": "s-1", "ts": _ts(-300), "type": "shutdown", "scope": "plant",
             "reason": "停产检修"},
            {"event_id": "rr-1", "ts": _ts(-60), "type": "resume_request",
             "planned_at": _ts(86400), "self_check": [{"item": "安全设施完好", "ok": True}]},
        ):  # fmt: skip
            dev.send("event", body)
    finally:
        dev.close()


def _wait_for(db_url: str, sql: str, at_least: int) -> None:
    deadline = time.monotonic() + 30
    with psycopg.connect(db_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(sql).fetchone()
            if row and row[0] >= at_least:
                return
            time.sleep(0.2)  # polling the database for the monitor's writes
    raise AssertionError(f"timed out waiting for {sql}")


def test_every_page_reads_in_chinese(
    page: Page,
    server: ServerThread,
    monitor: support.MonitorThread,
    settings: Settings,
    db_url: str,
) -> None:
    region = load_policies(settings.policy_dir).region
    # Playwright's sync API owns this thread's loop: seed from a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, safewatch._seed_demo(settings, region)).result(timeout=120)
    with psycopg.connect(db_url) as conn:
        ent = conn.execute("SELECT credit_code FROM enterprises ORDER BY credit_code").fetchone()
        draw_id = conn.execute("SELECT id FROM draws").fetchone()
    assert ent
    assert draw_id
    _site_activity(settings, ent[0])
    _wait_for(db_url, "SELECT count(*) FROM restart_requests", 1)
    _wait_for(db_url, "SELECT count(*) FROM alarms WHERE rule = 'trial_period_invalid'", 1)
    _wait_for(db_url, "SELECT count(*) FROM alarms WHERE rule = 'guardian_missing'", 1)

    sign_in(page, server)
    expect(page.locator("#bureau")).to_have_text("昌吉回族自治州应急管理局")
    expect(page.locator("#board tbody tr")).to_have_count(120)
    expect(page.locator("#board")).to_contain_text("准东经济技术开发区")
    expect(page.locator("#board")).to_contain_text("煤化工")
    _no_latin_only(page, "board")

    page.goto(f"{server.url}/ui/#/alarms")
    rows = page.locator("tr[data-alarm]")
    expect(rows.first).to_be_visible()
    # 一级, or 特级 when the test runs at night (升级管理).
    expect(page.locator("#view")).to_contain_text("级动火作业DH-001未指定监护人")
    expect(page.locator("#view")).to_contain_text("试生产计划380天")
    shot(page, "zh-alarms")
    _no_latin_only(page, "alarm queue")

    page.goto(f"{server.url}/ui/#/ent/{ent[0]}")
    expect(page.locator("#special-ops")).to_contain_text("级动火作业")
    _no_latin_only(page, "enterprise page")

    page.goto(f"{server.url}/ui/#/restarts")
    expect(page.locator("#restart-table tr[data-restart]")).to_have_count(1)
    expect(page.locator("#restart-table")).to_contain_text("待审核")
    _no_latin_only(page, "restart list")
    page.locator("#restart-table a", has_text="审核").click()
    expect(page.locator("#rr-state")).to_have_text("待审核")
    _no_latin_only(page, "restart review")

    page.goto(f"{server.url}/ui/#/plans/CJ-JOINT-MONTHLY")
    expect(page.locator("#plan-spec")).to_contain_text("抽查方式")
    expect(page.locator("#plan-spec")).to_contain_text("不定向抽查")
    _no_latin_only(page, "plan")
    page.goto(f"{server.url}/ui/#/plans")
    expect(page.locator("#draws tbody tr").first).to_contain_text("已公布")
    _no_latin_only(page, "plans")

    page.goto(f"{server.url}/ui/#/draw/{draw_id[0]}")
    expect(page.locator("#exclusions")).to_contain_text("执法证在检查期内到期")
    shot(page, "zh-draw")
    _no_latin_only(page, "draw")

    for path, marker in (
        ("/public/#/draws", "#public-draws"),
        (f"/public/#/draws/{draw_id[0]}", "#exclusions"),
        ("/public/#/results", "#public-results"),
    ):
        page.goto(server.url + path)
        expect(page.locator(marker)).to_be_visible()
        expect(page.locator("#bureau")).to_have_text("昌吉回族自治州应急管理局")
        _no_latin_only(page, f"public {path}")
