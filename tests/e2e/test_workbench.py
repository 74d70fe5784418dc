"""Browser (Debian chromium): an inspector records two findings on the workbench (one refused
for a missing measure, shown in zh-CN), issues the order; the enterprise acknowledges and uploads
evidence; the inspector closes by 复查 and downloads the documents as PDF, whose text holds each
finding's basis, cause and measure; an inspector outside the team is refused."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from demo.directory import demo_items
from domain.clock import utcnow
from tests.conftest import TEST_ADMIN_PASSWORD
from tests.e2e import dashboard_support as support
from tests.e2e.dashboard_support import shot, sign_in
from tests.integration.apiclient import PASSWORD, add_user, seed
from tests.integration.liveserver import ServerThread
from tests.integration.test_api_draws import OFFICERS_CSV, PERIOD

pytestmark = pytest.mark.e2e
browser, server, page = support.browser, support.server, support.page
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _world(server: ServerThread, db_url: str) -> tuple[int, str]:
    code = seed(db_url, 3)[0]
    today = utcnow().date()
    with httpx.Client(base_url=server.url) as c:
        token = c.post(
            "/api/v1/auth/token", data={"username": "admin", "password": TEST_ADMIN_PASSWORD}
        ).json()["access_token"]
        h = {"Authorization": f"Bearer {token}"}
        files = {"file": ("o.csv", OFFICERS_CSV.encode(), "text/csv")}
        assert c.post("/api/v1/inspectors/import", files=files, headers=h).status_code == 200
        body = {
            "credit_code": code,
            "source": "targeted",
            "reason": "重点企业年度重点检查",
            "planned_from": today.isoformat(),
            "planned_to": (today + timedelta(days=3)).isoformat(),
            "staff": [
                {"officer_id": "ZF-001", "role": "leader"},
                {"officer_id": "ZF-002", "role": "member"},
            ],
        }
        res = c.post("/api/v1/inspections", json=body, headers=h)
        assert res.status_code == 201, res.text
    for user, officer in (("insp1", "ZF-001"), ("outsider", "ZF-003")):
        add_user(db_url, user, "inspector")
        with psycopg.connect(db_url) as conn:
            conn.execute("UPDATE users SET officer_id = %s WHERE username = %s", (officer, user))
    add_user(db_url, "ent1", "enterprise", code)
    return int(res.json()["id"]), code


def _sign_out(page: Page) -> None:
    page.click("#logout")
    page.wait_for_selector("#login-form")


def _pdf_text(data: bytes) -> str:
    return "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def test_inspector_enterprise_and_reinspection_in_the_browser(
    page: Page, server: ServerThread, db_url: str
) -> None:
    iid, _ = _world(server, db_url)
    soon = (utcnow().date() + timedelta(days=10)).isoformat()
    sign_in(page, server, "insp1", PASSWORD)
    page.goto(server.url + "/ui/#/inspections")
    expect(page.locator("table[data-bucket=today]")).to_contain_text(f"#{iid}")
    page.click(f"a[href='#/inspection/{iid}']")
    form = page.locator("#finding-form")
    expect(page.locator("#team")).to_contain_text("检查组长")
    form.locator("select[name=item_code]").select_option("SP-TRAIN-01")
    expect(form.locator("input[name=legal_basis]")).to_have_value("安全生产法 第二十八条")
    expect(page.locator("#penalty-basis")).to_contain_text("安全生产法 第九十七条")
    form.locator("textarea[name=cause]").fill("新入职员工3人未经三级安全教育即上岗作业")
    form.locator("input[name=deadline]").fill(soon)
    form.locator("select[name=harm]").select_option("none")
    form.locator("button[type=submit]").click()
    expect(page.locator("#finding-errors li[data-field=measure]")).to_contain_text(
        "必须填写整改措施"
    )
    shot(page, "workbench-refused")
    form.locator("textarea[name=measure]").fill("组织补训并考核合格后上岗，建立培训档案")
    form.locator("button[type=submit]").click()
    expect(page.locator("#findings tbody tr")).to_have_count(1)
    expect(page.locator("#findings")).to_contain_text("不予处罚")
    page.click("button[data-confirm]")  # the officer confirms the recommendation
    expect(page.locator("#findings td.decide")).to_contain_text("已确认（不予处罚）")
    page.click("button[data-agree]")  # closing step: the enterprise's representative agrees
    expect(page.locator("#findings td.statement")).to_contain_text("企业：无异议")
    form = page.locator("#finding-form")
    form.locator("select[name=item_code]").select_option("SP-SIGN-01")
    form.locator("textarea[name=cause]").fill("储罐区入口未设置安全警示标志，夜间照明不足")
    form.locator("textarea[name=measure]").fill("在储罐区入口设置符合国家标准的安全警示标志")
    form.locator("input[name=deadline]").fill(soon)
    form.locator("select[name=severity]").select_option("general")
    form.locator("select[name=harm]").select_option("minor")
    form.locator("button[type=submit]").click()
    expect(page.locator("#findings tbody tr")).to_have_count(2)
    page.click("#issue-order")
    expect(page.locator("button[data-reinspect]")).to_have_count(2)
    shot(page, "workbench-findings")
    _sign_out(page)

    sign_in(page, server, "outsider", PASSWORD)
    page.goto(server.url + f"/ui/#/inspection/{iid}")
    form = page.locator("#finding-form")
    form.locator("select[name=item_code]").select_option("SP-TRAIN-01")
    form.locator("textarea[name=cause]").fill("新入职员工3人未经三级安全教育即上岗作业")
    form.locator("textarea[name=measure]").fill("组织补训并考核合格后上岗，建立培训档案")
    form.locator("input[name=deadline]").fill(soon)
    form.locator("button[type=submit]").click()
    expect(page.locator("#finding-errors")).to_contain_text("只有本次检查的检查组成员")
    _sign_out(page)

    sign_in(page, server, "ent1", PASSWORD)
    page.goto(server.url + "/ui/#/rect")
    page.click("#orders a")
    page.click("#ack")
    expect(page.locator("#order-state")).to_have_text("企业已确认")
    page.locator("#rect-evidence input[type=file]").set_input_files(
        {"name": "整改后.png", "mimeType": "image/png", "buffer": PNG}
    )
    page.click("#rect-evidence button[type=submit]")
    expect(page.locator("#order-state")).to_have_text("企业已报送整改")
    expect(page.locator("#rect-files")).to_contain_text("整改后.png")
    shot(page, "enterprise-rectification")
    _sign_out(page)

    sign_in(page, server, "insp1", PASSWORD)
    page.goto(server.url + f"/ui/#/inspection/{iid}")
    expect(page.locator("button[data-reinspect]")).to_have_count(2)
    for left in (1, 0):
        page.locator("button[data-reinspect]").first.click()
        expect(page.locator("button[data-reinspect]")).to_have_count(left)
    expect(page.locator("#findings")).to_contain_text("复查通过")
    for kind in ("inspection_record", "rectification_order", "reinspection_opinion"):
        with page.expect_download() as info:
            page.click(f"button[data-doc={kind}]")
        text = _pdf_text(Path(info.value.path()).read_bytes())
        for part in (
            "安全生产法第二十八条",
            "新入职员工3人未经三级安全教育即上岗作业",
            "组织补训并考核合格后上岗，建立培训档案",
            "安全生产法第三十五条",
            "储罐区入口未设置安全警示标志，夜间照明不足",
            "在储罐区入口设置符合国家标准的安全警示标志",
        ):
            assert part in text, (kind, part)
    shot(page, "workbench-closed")
    _sign_out(page)

    sign_in(page, server)  # a supervisor's view: statistics with the chart and the export
    page.goto(server.url + "/ui/#/stats")
    expect(page.locator("#stats-table thead")).to_contain_text("不予处罚")
    expect(page.locator("#stats-table tbody tr")).to_have_count(1)
    expect(page.locator("#stats-chart")).to_be_visible()
    with page.expect_download() as info:
        page.click("button[data-export=csv]")
    assert Path(info.value.path()).read_bytes().decode("utf-8-sig").startswith('"区县"')
    shot(page, "enforcement-stats")


def _drawn_world(server: ServerThread, db_url: str) -> tuple[int, str]:
    """A plan drawn over seeded enterprises (with the demo item list); the inspector account
    `leader1` linked to the leader of the first drawn inspection; (inspection id, sector)."""
    seed(db_url, 20)
    with httpx.Client(base_url=server.url) as c:
        token = c.post(
            "/api/v1/auth/token", data={"username": "admin", "password": TEST_ADMIN_PASSWORD}
        ).json()["access_token"]
        h = {"Authorization": f"Bearer {token}"}
        files = {"file": ("o.csv", OFFICERS_CSV.encode(), "text/csv")}
        assert c.post("/api/v1/inspectors/import", files=files, headers=h).status_code == 200
        plan = {
            "plan_id": "HZ-LIST",
            "title": "2026 年度双随机抽查",
            "team": {"departments": ["应急管理局"]},
            "strata": [{"ratio": "0.5"}],
            "own_county_rule": False,
        }
        assert c.post("/api/v1/plans", json=plan, headers=h).status_code == 201
        res = c.post("/api/v1/plans/HZ-LIST/draw", json={"period": PERIOD}, headers=h)
        assert res.status_code == 200, res.text
        draw_id = res.json()["id"]
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT i.id, e.sector, s.officer_id FROM inspections i JOIN enterprises e"
            " USING (credit_code) JOIN inspection_staff s ON s.inspection_id = i.id"
            " AND s.role = 'leader' WHERE i.draw_id = %s ORDER BY i.id LIMIT 1",
            (draw_id,),
        ).fetchone()
    assert row is not None
    add_user(db_url, "leader1", "inspector")
    with psycopg.connect(db_url) as conn:
        conn.execute("UPDATE users SET officer_id = %s WHERE username = 'leader1'", (row[2],))
        # The bureau links no catalogue entry to AQ-17 (安全设备和安全警示标志) yet.
        conn.execute("UPDATE inspection_items SET checklist_codes = '{}' WHERE item_id = 'AQ-17'")
    return int(row[0]), str(row[1])


def test_a_drawn_inspection_offers_its_list_and_flags_a_free_text_basis(
    page: Page, server: ServerThread, db_url: str
) -> None:
    iid, sector = _drawn_world(server, db_url)
    listed = [i for i in demo_items() if i.applies_to(sector)]
    linked = [c for i in listed if i.item_id != "AQ-17" for c in i.checklist_codes]
    expected = sorted(set(linked))
    soon = (utcnow().date() + timedelta(days=10)).isoformat()
    sign_in(page, server, "leader1", PASSWORD)
    page.goto(server.url + f"/ui/#/inspection/{iid}")
    form = page.locator("#finding-form")
    expect(form.locator("#list-note")).to_contain_text(f"抽查事项清单所列事项（{len(listed)}项）")
    select = form.locator("select[name=item_code]")
    expect(select.locator("optgroup")).to_have_count(len(listed))
    expect(select.locator("optgroup[label^='AQ-02 安全生产教育和培训']")).to_have_count(1)
    codes = select.locator("option[value]:not([value=''])")
    expect(codes).to_have_count(len(linked))
    expect(select.locator("optgroup[label^='AQ-17'] option[disabled]")).to_have_count(1)
    assert sorted(set(codes.evaluate_all("os => os.map((o) => o.value)"))) == expected
    expect(select.locator("option[value=SP-SIGN-01]")).to_have_count(0)  # catalogue, not listed

    select.select_option("SP-TRAIN-01")
    expect(form.locator("input[name=legal_basis]")).to_have_value("安全生产法 第二十八条")
    expect(page.locator("#penalty-basis")).to_contain_text("安全生产法 第九十七条")
    form.locator("input[name=legal_basis]").fill("《安全生产培训管理办法》第十条")
    form.locator("textarea[name=cause]").fill("新入职员工3人未经三级安全教育即上岗作业")
    form.locator("textarea[name=measure]").fill("组织补训并考核合格后上岗，建立培训档案")
    form.locator("input[name=deadline]").fill(soon)
    form.locator("select[name=harm]").select_option("none")
    form.locator("button[type=submit]").click()
    expect(page.locator("#finding-errors li[data-field=legal_basis]")).to_contain_text(
        "如确需引用其他依据，请在“依据说明”中写明理由"
    )
    expect(page.locator("#findings tbody tr")).to_have_count(0)
    form.locator("input[name=basis_reason]").fill("部门规章对新员工培训学时有具体规定，依此认定")
    form.locator("button[type=submit]").click()
    row = page.locator("#findings tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("《安全生产培训管理办法》第十条")
    expect(row.locator("td b.error")).to_have_text("（自由填写）")  # flagged for the supervisor
    shot(page, "workbench-draw-list")
