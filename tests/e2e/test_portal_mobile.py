"""Browser, phone viewport (390×844, touch): the enterprise reports a shutdown and a hot-work
start with a gas analysis and duty staff see both on the board within a second of the phone
confirming; a restart request with a failed self-check item reaches review; a form keeps the
input and says what to fix; guidance is acknowledged; a licence 100 days from expiry shows its
reminder with the procedure text; touch targets are at least 44 px at 360 and 414 px; the
enterprise acknowledges a rectification order, asks for more time and uploads its evidence, which
the server holds with its SHA-256."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect
from psycopg.types.json import Jsonb

from config.settings import Settings
from domain.clock import BUREAU_TZ, utcnow
from tests.e2e import dashboard_support as support
from tests.e2e.dashboard_support import shot, sign_in
from tests.e2e.test_workbench import PNG, _world
from tests.integration.apiclient import PASSWORD, add_user, seed
from tests.integration.conftest import bearer
from tests.integration.liveserver import ServerThread
from tests.integration.workbench_support import inspector_as

pytestmark = pytest.mark.e2e
browser, server, page, monitor = support.browser, support.server, support.page, support.monitor


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A phone: 390×844, touch, zh-CN; fails the test on any JavaScript error."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.set_default_timeout(8000)
    yield p
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def _sign_in_phone(phone: Page, server: ServerThread, username: str) -> None:
    phone.goto(server.url + "/ui/m/")
    phone.fill("input[name=username]", username)
    phone.fill("input[name=password]", PASSWORD)
    phone.tap("#login-form button[type=submit]")
    expect(phone.locator("#report-form")).to_be_visible()


def _local(minutes: int) -> str:
    """A datetime-local value `minutes` from now in the bureau's zone."""
    return (utcnow() + timedelta(minutes=minutes)).astimezone(BUREAU_TZ).strftime("%Y-%m-%dT%H:%M")


def _report(phone: Page, kind: str, values: dict[str, str], files: Any = None) -> None:
    phone.select_option("#report-type", kind)
    for name, value in values.items():
        el = phone.locator(f"#report-form [name={name}]")
        if el.evaluate("e => e.tagName") == "SELECT":
            el.select_option(value)
        else:
            el.fill(value)
    if files:
        phone.set_input_files("#report-form [name=permit_photo]", files=files)
    phone.tap("#report-form button[type=submit]")


def test_phone_reports_reach_the_duty_board_and_review(
    phone: Page,
    page: Page,
    server: ServerThread,
    monitor: support.MonitorThread,
    settings: Settings,
    db_url: str,
) -> None:
    ent, *_ = seed(db_url, 3)
    add_user(db_url, "ent_phone", "enterprise", ent)
    sign_in(page, server)  # duty staff on the board
    row = page.locator(f"#board tr[data-code='{ent}']")
    expect(row).to_be_visible()
    _sign_in_phone(phone, server, "ent_phone")

    _report(phone, "shutdown", {"scope": "plant", "reason": "设备检修停产"})
    expect(phone.locator("#toast")).to_contain_text("已上报")
    stored = time.perf_counter()
    expect(row).to_contain_text("停产", timeout=1000)
    shutdown_s = time.perf_counter() - stored
    shot(phone, "portal-shutdown")

    phone.select_option("#report-type", "special_op_start")
    form = {
        "op_id": "DH-01",
        "op_type": "hot_work",
        "grade": "2",
        "permit_no": "DH-2026-0001",
        "valid_from": _local(-30),
        "valid_to": _local(240),
        "location": "罐区东侧",
        "guardian": "王监护",
        "guardian_cert": "JH-001",
        "o2_pct": "20.9",
        "lel_pct": "0",
        "gas": "CH4",
    }
    photo = {
        "name": "permit.png",
        "mimeType": "image/png",
        "buffer": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
    }
    _report(phone, "special_op_start", form, files=[photo])
    expect(phone.locator("#reports .item").first).to_contain_text("已接收")
    stored = time.perf_counter()
    expect(row).to_contain_text("动火", timeout=1000)
    hot_s = time.perf_counter() - stored
    print(f"board after the phone confirmed: {shutdown_s:.3f} s, {hot_s:.3f} s")  # noqa: T201
    with psycopg.connect(db_url) as conn:  # the signed permit's photo, in the evidence store
        sha = conn.execute(
            "SELECT sha256 FROM evidence_files WHERE enterprise_id = %s"
            " AND subject_kind = 'work_permit' AND subject_id = 'DH-2026-0001'",
            (ent,),
        ).fetchone()
        assert sha is not None
        payload = conn.execute(
            "SELECT payload FROM events WHERE enterprise_id = %s AND type = 'special_op_start'",
            (ent,),
        ).fetchone()
        assert payload is not None
        assert sha[0] in str(payload[0])

    # The daily commitment is prefilled from what was reported today: the open hot work, and
    # 开停车 because the plant is shut down (the enterprise checks and completes the rest).
    phone.tap("#tabs a[data-tab=commitment]")
    form_ = phone.locator("#commitment-form")
    expect(form_.locator("[name=op_hot_work]")).to_have_value("1")
    expect(form_.locator("[name=op_confined_space]")).to_have_value("0")
    expect(form_.locator("[name=startup_shutdown]")).to_be_checked()
    expect(form_.locator("[name=trial_production]")).not_to_be_checked()
    phone.tap("#tabs a[data-tab=report]")

    # A restart request with one failed self-check item goes to review with it.
    phone.select_option("#report-type", "resume_request")
    phone.fill("#report-form [name=planned_at]", _local(24 * 60))
    phone.locator("#report-form [name=ok_3]").tap()  # 隐患排查整改完毕: not yet
    phone.fill("#report-form [name=note_3]", "储罐区一处隐患整改中")
    phone.tap("#report-form button[type=submit]")
    expect(phone.locator("#toast")).to_contain_text("已上报")
    page.goto(f"{server.url}/ui/#/restarts")
    request = page.locator("#restart-table tbody tr").first
    expect(request).to_contain_text("1")
    request.locator("a[href^='#/restarts/']").click()
    expect(page.locator("#view")).to_contain_text("储罐区一处隐患整改中")
    shot(page, "portal-restart-review")


def test_a_refused_form_keeps_the_input_and_says_what_to_fix(
    phone: Page, server: ServerThread, monitor: support.MonitorThread, db_url: str
) -> None:
    ent, *_ = seed(db_url, 1)
    add_user(db_url, "ent_phone", "enterprise", ent)
    _sign_in_phone(phone, server, "ent_phone")
    # missing on the phone: said before sending
    _report(phone, "shutdown", {"scope": "plant"})
    expect(phone.locator("#report-form .form-error")).to_contain_text("请填写：停产原因")
    # refused by the ingest (parts of the plant without the units): said, input kept
    _report(phone, "shutdown", {"scope": "unit", "reason": "部分装置检修"})
    expect(phone.locator("#report-form .form-error")).to_contain_text("请检查这些栏目：范围；装置")
    assert phone.input_value("#report-form [name=reason]") == "部分装置检修"
    assert phone.input_value("#report-form [name=scope]") == "unit"
    shot(phone, "portal-refused")
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (0,)


def test_guidance_is_acknowledged_and_the_licence_reminder_names_the_procedure(
    phone: Page, server: ServerThread, monitor: support.MonitorThread, db_url: str
) -> None:
    ent, *_ = seed(db_url, 1)
    add_user(db_url, "ent_phone", "enterprise", ent)
    valid_to = (utcnow().astimezone(BUREAU_TZ) + timedelta(days=100)).date()
    with psycopg.connect(db_url) as conn:  # as PATCH /api/v1/enterprises stores it (`kind`)
        conn.execute(
            "UPDATE enterprises SET licences = %s WHERE credit_code = %s",
            (
                Jsonb(
                    [{"kind": "安全生产许可证", "number": "(新)WH-100", "valid_to": str(valid_to)}]
                ),
                ent,
            ),
        )
    duty = bearer(server)
    res = httpx.post(
        f"{server.url}/api/v1/enterprises/{ent}/guidance",
        json={"text": "请立即对罐区重新进行气体分析。", "requires_ack": True},
        headers=duty,
    )
    assert res.status_code == 201, res.text
    _sign_in_phone(phone, server, "ent_phone")
    phone.tap("#tabs a[data-tab=inbox]")
    item = phone.locator("#inbox .item").first
    expect(item).to_contain_text("请立即对罐区重新进行气体分析")
    item.locator("button.ack").tap()
    expect(item).to_contain_text("已确认")
    with psycopg.connect(db_url) as conn:
        state = conn.execute("SELECT state FROM downlinks WHERE enterprise_id = %s", (ent,))
        assert state.fetchone() == ("acknowledged",)  # the same delivery state as an MQTT ack
    phone.tap("#tabs a[data-tab=licences]")
    lic = phone.locator("#licences .item").first
    expect(lic).to_contain_text("首次提醒")
    expect(lic.locator(".reminder")).to_contain_text("办理程序")
    expect(lic.locator(".reminder")).to_contain_text("原安全生产许可证颁发管理机关")
    shot(phone, "portal-licences")


@pytest.mark.parametrize("width", [360, 414])
def test_touch_targets_and_no_sideways_scrolling(
    browser: Browser, server: ServerThread, db_url: str, width: int
) -> None:
    ent, *_ = seed(db_url, 1)
    add_user(db_url, "ent_phone", "enterprise", ent)
    context = browser.new_context(
        viewport={"width": width, "height": 800}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    p = context.new_page()
    try:
        _sign_in_phone(p, server, "ent_phone")
        for tab in ("report", "commitment", "inbox", "rect", "licences", "account"):
            p.tap(f"#tabs a[data-tab={tab}]")
            p.wait_for_load_state("networkidle")
            small = p.evaluate(
                """() => [...document.querySelectorAll(
                      'button, select, input:not([type=checkbox]), #tabs a, label.check')]
                    .filter((e) => e.offsetParent !== null)
                    .map((e) => [e.name || e.textContent.trim().slice(0, 12),
                                 e.getBoundingClientRect().height])
                    .filter(([, h]) => h < 44)"""
            )
            assert small == [], (tab, small)
            assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), tab
    finally:
        context.close()


def test_the_manager_adds_a_reporter_and_changes_the_password(
    phone: Page, server: ServerThread, db_url: str
) -> None:
    ent, *_ = seed(db_url, 1)
    add_user(db_url, "ent_phone", "enterprise", ent)
    _sign_in_phone(phone, server, "ent_phone")
    phone.tap("#tabs a[data-tab=account]")
    phone.fill("#reporter-form [name=username]", "rep.li")
    phone.fill("#reporter-form [name=display_name]", "李上报")
    phone.fill("#reporter-form [name=password]", "short")
    phone.tap("#reporter-form button[type=submit]")
    expect(phone.locator("#reporter-form .form-error")).to_be_visible()
    assert phone.input_value("#reporter-form [name=display_name]") == "李上报"  # input kept
    phone.fill("#reporter-form [name=password]", "reporter-pass-1")
    phone.tap("#reporter-form button[type=submit]")
    expect(phone.locator("#accounts [data-user='rep.li']")).to_contain_text("上报员")
    phone.fill("#contacts-form [name=name_0]", "张安全")
    phone.fill("#contacts-form [name=phone_0]", "0994-1234567")
    phone.tap("#contacts-form button[type=submit]")
    expect(phone.locator("#toast")).to_contain_text("联系人已保存")
    phone.fill("#password-form [name=current_password]", "wrong-password")
    phone.fill("#password-form [name=new_password]", "a-new-password-1")
    phone.tap("#password-form button[type=submit]")
    expect(phone.locator("#password-form .form-error")).to_contain_text("当前密码不正确")
    shot(phone, "portal-account")


SMALL_TARGETS = """(root) => [...document.querySelectorAll(root + ' button, ' + root + ' input, '
      + root + ' textarea')].filter((e) => e.offsetParent !== null)
    .map((e) => [e.name || e.textContent.trim().slice(0, 12), e.getBoundingClientRect().height])
    .filter(([, h]) => h < 44)"""


def test_the_enterprise_acknowledges_an_order_and_uploads_evidence_from_the_phone(
    phone: Page, server: ServerThread, db_url: str
) -> None:
    iid, code = _world(server, db_url)  # an inspection of `code` by ZF-001/ZF-002; user ent1
    soon = utcnow().astimezone(BUREAU_TZ).date() + timedelta(days=10)
    with httpx.Client(base_url=server.url) as c:
        team = inspector_as(c, db_url, "ZF-001")
        finding = {
            "item_code": "SP-SIGN-01",
            "legal_basis": "安全生产法 第三十五条",
            "cause": "储罐区入口未设置安全警示标志，夜间照明不足",
            "measure": "在储罐区入口设置符合国家标准的安全警示标志",
            "deadline": soon.isoformat(),
            "severity": "general",
            "harm": "minor",
        }
        res = c.post(f"/api/v1/inspections/{iid}/findings", json=finding, headers=team)
        assert res.status_code == 201, res.text
        res = c.post(f"/api/v1/inspections/{iid}/rectification", headers=team)
        assert res.status_code == 201, res.text
        oid = res.json()["id"]

    _sign_in_phone(phone, server, "ent1")
    phone.tap("#tabs a[data-tab=rect]")
    order = phone.locator(f"#orders .order[data-order='{oid}']")
    expect(order).to_contain_text("在储罐区入口设置符合国家标准的安全警示标志")  # the measure
    expect(order.locator(".findings")).to_contain_text(f"期限 {soon.isoformat()}")
    expect(order.locator(".order-state")).to_have_text("待确认")
    assert phone.evaluate(SMALL_TARGETS, "#orders") == []

    order.locator("button.rect-ack").tap()
    expect(order.locator(".order-state")).to_have_text("已确认，整改中")

    # An extension request without a reason: said on the phone, the date kept; then sent.
    later = (soon + timedelta(days=15)).isoformat()
    ext = order.locator("form.rect-extension")
    ext.locator("[name=requested_deadline]").fill(later)
    ext.locator("button[type=submit]").tap()
    expect(ext.locator(".form-error")).to_contain_text("请填写：延期理由")
    assert ext.locator("[name=requested_deadline]").input_value() == later
    ext.locator("[name=reason]").fill("警示标志需定制，供货周期约二十天")
    ext.locator("button[type=submit]").tap()
    expect(order.locator(".extension")).to_contain_text(f"延期申请至 {later}：待审批")

    # A file that only claims to be a picture: the server refuses it, the note stays.
    up = order.locator("form.rect-evidence")
    up.locator("[name=note]").fill("已在入口设置警示标志并增设照明")
    fake = {"name": "fake.png", "mimeType": "image/png", "buffer": b"not a picture at all"}
    up.locator("[name=file]").set_input_files(fake)
    up.locator("button[type=submit]").tap()
    expect(up.locator(".form-error")).to_be_visible()
    assert up.locator("[name=note]").input_value() == "已在入口设置警示标志并增设照明"
    shot(phone, "portal-rect-refused")

    up.locator("[name=file]").set_input_files(
        {"name": "整改后.png", "mimeType": "image/png", "buffer": PNG}
    )
    up.locator("button[type=submit]").tap()
    sha = hashlib.sha256(PNG).hexdigest()
    expect(order.locator(".evidence")).to_contain_text(f"SHA-256 {sha}")
    expect(order.locator(".order-state")).to_have_text("已报送整改证据")
    shot(phone, "portal-rect-evidence")
    with psycopg.connect(db_url) as conn:  # the server holds the file with its SHA-256
        rows = conn.execute(
            "SELECT sha256, encode(sha256(content), 'hex'), note FROM evidence_files"
            " WHERE enterprise_id = %s"
            " AND subject_kind = 'rectification' AND subject_id = %s",
            (code, str(oid)),
        ).fetchall()
        assert rows == [(sha, sha, "已在入口设置警示标志并增设照明")]
        ack = conn.execute(
            "SELECT acknowledged_at IS NOT NULL FROM rectification_orders WHERE id = %s", (oid,)
        ).fetchone()
        assert ack == (True,)
        reason = conn.execute(
            "SELECT reason FROM rectification_extensions WHERE order_id = %s", (oid,)
        ).fetchone()
        assert reason == ("警示标志需定制，供货周期约二十天",)
