"""Browser (Debian chromium): the workbench's pages for the steps that had only an API — the
advisor's recommendation with every rule checked and the officer's confirm/override (reason
required), the supervisors' overrides list, coercive measures with their preconditions, a team
change, hand-made inspections against the yearly cap, and extension decisions. Each page: the
happy path, a refusal shown in zh-CN, an inspector outside the team refused, and a supervisor's
act neither offered to nor accepted from an inspector."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import TEST_ADMIN_PASSWORD
from tests.e2e import dashboard_support as support
from tests.e2e.dashboard_support import shot, sign_in
from tests.integration.apiclient import PASSWORD, add_user, seed
from tests.integration.liveserver import ServerThread
from tests.integration.test_api_draws import OFFICERS_CSV

pytestmark = pytest.mark.e2e
browser, server, page = support.browser, support.server, support.page
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
SOON = TODAY + timedelta(days=10)
FINDING = {
    "item_code": "SP-TRAIN-01",
    "legal_basis": "安全生产法 第二十八条",
    "cause": "新入职员工3人未经三级安全教育即上岗作业",
    "measure": "组织补训并考核合格后上岗，建立培训档案",
    "deadline": SOON.isoformat(),
    "severity": "minor",
    "harm": "none",
}
ROLE_REFUSED = "无权执行此操作"  # auth.role_forbidden, zh-CN


class World:
    """Three enterprises, eight officers, a targeted inspection of the first by ZF-001 (leader)
    and ZF-002, and the accounts: insp1 (ZF-001), outsider (ZF-003), sup, ent1."""

    def __init__(self, server: ServerThread, db_url: str) -> None:
        self.server, self.db_url = server, db_url
        self.codes = seed(db_url, 3)
        self.code = self.codes[0]
        self.http = httpx.Client(base_url=server.url)
        self.admin = self.token("admin", TEST_ADMIN_PASSWORD)
        files = {"file": ("o.csv", OFFICERS_CSV.encode(), "text/csv")}
        res = self.http.post("/api/v1/inspectors/import", files=files, headers=self.admin)
        assert res.status_code == 200, res.text
        self.iid = self.inspection(self.code, "ZF-001", "ZF-002")
        for user, officer in (("insp1", "ZF-001"), ("outsider", "ZF-003")):
            add_user(db_url, user, "inspector")
            with psycopg.connect(db_url) as conn:
                conn.execute(
                    "UPDATE users SET officer_id = %s WHERE username = %s", (officer, user)
                )
        add_user(db_url, "sup", "supervisor")
        add_user(db_url, "ent1", "enterprise", self.code)
        self.team = self.token("insp1", PASSWORD)

    def token(self, username: str, password: str) -> dict[str, str]:
        res = self.http.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert res.status_code == 200, res.text
        return {"Authorization": f"Bearer {res.json()['access_token']}"}

    def inspection(self, code: str, leader: str, member: str) -> int:
        body = {
            "credit_code": code,
            "source": "targeted",
            "reason": "重点企业年度重点检查",
            "planned_from": TODAY.isoformat(),
            "planned_to": (TODAY + timedelta(days=3)).isoformat(),
            "staff": [
                {"officer_id": leader, "role": "leader"},
                {"officer_id": member, "role": "member"},
            ],
        }
        res = self.http.post("/api/v1/inspections", json=body, headers=self.admin)
        assert res.status_code == 201, res.text
        return int(res.json()["id"])

    def finding(self, body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"/api/v1/inspections/{self.iid}/findings"
        res = self.http.post(url, json=body or FINDING, headers=self.team)
        assert res.status_code == 201, res.text
        return dict(res.json())

    def major(self) -> dict[str, Any]:
        """A 重大事故隐患 finding under the standard of the enterprise's sector."""
        with psycopg.connect(self.db_url) as conn:
            row = conn.execute(
                "SELECT sector FROM enterprises WHERE credit_code = %s", (self.code,)
            ).fetchone()
        assert row is not None
        hazchem = str(row[0]).startswith("hazchem")
        body = FINDING | {
            "item_code": "HC-MAJOR-01" if hazchem else "GM-MAJOR-01",
            "legal_basis": "安全生产法 第一百一十八条",
            "severity": "major_hazard",
            "cause": "可燃气体泄漏场所未设置检测报警装置",
            "measure": "立即设置检测报警装置并经检测合格",
        }
        body |= (
            {"hazard_criterion": "HC121-12"}
            if hazchem
            else {"criterion_text": "按行业判定标准第三条认定的重大事故隐患"}
        )
        return self.finding(body)


@pytest.fixture
def w(server: ServerThread, db_url: str) -> Iterator[World]:
    world = World(server, db_url)
    yield world
    world.http.close()


def _sign_out(page: Page) -> None:
    page.click("#logout")
    page.wait_for_selector("#login-form")


def _fetch(page: Page, method: str, path: str, body: Any = None) -> dict[str, Any]:
    """The API called from the signed-in page with its own token (status and error message)."""
    result: dict[str, Any] = page.evaluate(
        """async ([method, path, body]) => {
            const s = JSON.parse(sessionStorage.getItem("sw.session"));
            const res = await fetch(path, { method, headers: { Authorization: `Bearer ${s.token}`,
              "Content-Type": "application/json", "Accept-Language": "zh-CN" },
              body: body === null ? undefined : JSON.stringify(body) });
            const data = await res.json();
            return { status: res.status, message: (data.error || {}).message || "" };
        }""",
        [method, path, body],
    )
    return result


def _audit(db_url: str, action: str, target: str) -> list[Any]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT username, after FROM audit_log WHERE action = %s AND target = %s",
            (action, target),
        )
        return rows.fetchall()


def test_advisor_checks_confirm_override_and_the_supervisors_list(
    page: Page, server: ServerThread, db_url: str, w: World
) -> None:
    first, second = w.finding(), w.finding()
    sign_in(page, server, "insp1", PASSWORD)
    page.goto(server.url + f"/ui/#/inspection/{w.iid}")
    page.click(f"a[data-finding-link='{first['id']}']")
    expect(page.locator("#recommendation")).to_have_text("不予处罚")
    checks = page.locator("#checks tbody tr")
    expect(checks).to_have_count(len(first["advice"]))  # every rule checked, with its result
    expect(page.locator("#checks")).to_contain_text("违法行为轻微")
    expect(page.locator("#checks")).to_contain_text("✓ 符合")
    expect(page.locator("#nav a[href='#/overrides']")).to_be_hidden()
    form = page.locator("#decision-form")
    form.locator("select[name=decision]").select_option("case")
    page.click("#override")  # no reason: refused
    expect(page.locator("#decision-errors")).to_contain_text("不采纳建议时必须写明理由")
    shot(page, "finding-override-refused")
    reason = "企业曾因同类问题被约谈，情节不宜从宽处理"
    form.locator("textarea[name=reason]").fill(reason)
    page.click("#override")
    expect(page.locator("#decided")).to_contain_text("立案")
    expect(page.locator("#decided")).to_contain_text(reason)
    page.goto(server.url + "/ui/#/overrides")  # not offered to an inspector ...
    expect(page.locator("#not-offered")).to_contain_text("仅主管或管理员")
    refused = _fetch(page, "GET", "/api/v1/enforcement/overrides")  # ... nor accepted
    assert refused["status"] == 403
    assert ROLE_REFUSED in refused["message"]
    _sign_out(page)

    sign_in(page, server, "outsider", PASSWORD)  # an inspector outside the team
    page.goto(server.url + f"/ui/#/finding/{second['id']}")
    page.click("#confirm-rec")
    expect(page.locator("#decision-errors")).to_contain_text("只有本次检查的检查组成员")
    _sign_out(page)

    sign_in(page, server, "sup", PASSWORD)
    page.click("#nav a[href='#/overrides']")
    row = page.locator(f"#override-list tr[data-finding='{first['id']}']")
    expect(row).to_contain_text("不予处罚")
    expect(row).to_contain_text("立案")
    expect(row).to_contain_text(reason)
    expect(page.locator(f"#override-list tr[data-finding='{second['id']}']")).to_have_count(0)
    expect(page.locator("#decision-form")).to_have_count(0)
    shot(page, "overrides-list")
    [(actor, after)] = _audit(db_url, "finding.override", f"finding:{first['id']}")
    assert actor == "insp1"
    assert after["reason"] == reason


def test_coercive_measures_follow_their_preconditions(
    page: Page, server: ServerThread, db_url: str, w: World
) -> None:
    general, major = w.finding(), w.major()
    sign_in(page, server, "insp1", PASSWORD)
    page.goto(server.url + f"/ui/#/finding/{general['id']}")
    for kind in ("suspend_production", "stop_equipment", "stop_power"):  # not a 重大事故隐患
        expect(page.locator(f"#measure-form option[value={kind}]")).to_be_disabled()
    expect(page.locator("#measure-form option[value=interview]")).to_be_enabled()
    page.goto(server.url + f"/ui/#/finding/{major['id']}")
    expect(page.locator("#recommendation")).to_have_text("立案")
    form = page.locator("#measure-form")
    expect(form.locator("option[value=suspend_production]")).to_be_enabled()
    expect(form.locator("option[value=stop_power]")).to_be_disabled()  # no refusal recorded yet
    expect(form.locator("option[value=stop_power]")).to_contain_text("拒不执行")
    form.locator("select[name=kind]").select_option("suspend_production")
    form.locator("textarea[name=content]").fill("责令储罐区暂时停产，撤出作业人员")
    form.locator("button[type=submit]").click()  # safety not stated as impossible: refused
    expect(page.locator("#measure-errors li[data-field=safety_not_ensured]")).to_contain_text(
        "无法保证安全"
    )
    shot(page, "measure-refused")
    form.locator("input[name=safety_not_ensured]").check()
    form.locator("button[type=submit]").click()
    expect(page.locator("#measures")).to_contain_text("责令暂时停产停业")
    page.locator("input[data-refusal-note]").fill("企业负责人拒绝停产并继续作业")
    page.locator("button[data-refuse]").click()
    expect(page.locator("#measures")).to_contain_text(
        "企业拒不执行（企业负责人拒绝停产并继续作业）"
    )
    form = page.locator("#measure-form")
    expect(form.locator("option[value=stop_power]")).to_be_enabled()
    form.locator("select[name=kind]").select_option("stop_power")
    form.locator("textarea[name=content]").fill("通知供电单位对该企业停止供电")
    form.locator("input[name=imminent_danger]").check()
    form.locator("button[type=submit]").click()  # without the head's approval: refused
    expect(page.locator("#measure-errors li[data-field=head_approval]")).to_contain_text(
        "主要负责人批准"
    )
    form.locator("input[name=head_approval]").fill("局长张某某批准（昌州应急批〔2026〕1号）")
    form.locator("button[type=submit]").click()
    expect(page.locator("#measures")).to_contain_text("通知有关单位停止供电")
    shot(page, "measures")
    _sign_out(page)
    sign_in(page, server, "outsider", PASSWORD)
    page.goto(server.url + f"/ui/#/finding/{major['id']}")
    page.locator("#measure-form textarea[name=content]").fill("约谈企业主要负责人，督促整改")
    page.locator("#measure-form select[name=kind]").select_option("interview")
    page.locator("#measure-form button[type=submit]").click()
    expect(page.locator("#measure-errors")).to_contain_text("只有本次检查的检查组成员")


def test_team_change_by_a_supervisor_with_a_reason(
    page: Page, server: ServerThread, db_url: str, w: World
) -> None:
    sign_in(page, server, "insp1", PASSWORD)  # an inspector is not offered the change ...
    page.goto(server.url + f"/ui/#/inspection/{w.iid}")
    expect(page.locator("#team")).to_contain_text("检查组长")
    expect(page.locator("#change-team")).to_have_count(0)
    page.goto(server.url + f"/ui/#/team/{w.iid}")
    expect(page.locator("#not-offered")).to_contain_text("调整检查组")
    body = {"staff": [{"officer_id": "ZF-003", "role": "leader"}], "reason": "原组长另有任务"}
    refused = _fetch(page, "PUT", f"/api/v1/inspections/{w.iid}/team", body)  # ... nor accepted
    assert refused["status"] == 403
    assert ROLE_REFUSED in refused["message"]
    _sign_out(page)

    sign_in(page, server, "sup", PASSWORD)
    page.goto(server.url + f"/ui/#/inspection/{w.iid}")
    page.click("#change-team")
    form = page.locator("#team-change")
    form.locator("select[data-officer='ZF-002']").select_option("")
    form.locator("select[data-officer='ZF-003']").select_option("member")
    form.locator("button[type=submit]").click()  # no reason: refused
    expect(page.locator("#team-errors")).to_contain_text("必须写明理由")
    reason = "执法员2因回避申请调出，由执法员3替补"
    form.locator("textarea[name=reason]").fill(reason)
    form.locator("button[type=submit]").click()
    expect(page.locator("#team-done")).to_contain_text("已调整")
    expect(page.locator("#team-now")).to_contain_text("执法员3")
    expect(page.locator("#team-now")).not_to_contain_text("执法员2")
    shot(page, "team-change")
    [(actor, after)] = _audit(db_url, "inspection.team_change", f"inspection:{w.iid}")
    assert actor == "sup"
    assert after["reason"] == reason
    assert {"officer_id": "ZF-003", "role": "member"} in after["team"]


def test_hand_made_inspections_show_and_keep_the_yearly_cap(
    page: Page, server: ServerThread, db_url: str, w: World
) -> None:
    code = w.codes[1]
    sign_in(page, server, "insp1", PASSWORD)
    expect(page.locator("#nav a[href='#/new-inspection']")).to_be_hidden()
    page.goto(server.url + "/ui/#/new-inspection")
    expect(page.locator("#not-offered")).to_contain_text("安排检查")
    body = {"credit_code": code, "source": "targeted", "reason": "重点企业年度重点检查",
            "planned_from": TODAY.isoformat(), "planned_to": TODAY.isoformat(),
            "staff": [{"officer_id": "ZF-001", "role": "leader"},
                      {"officer_id": "ZF-002", "role": "member"}]}  # fmt: skip
    refused = _fetch(page, "POST", "/api/v1/inspections", body)
    assert refused["status"] == 403
    assert ROLE_REFUSED in refused["message"]
    _sign_out(page)

    sign_in(page, server, "sup", PASSWORD)
    page.click("#nav a[href='#/new-inspection']")
    form = page.locator("#new-inspection")

    def fill(source: str, reason: str, start: date) -> None:
        form.locator("select[name=source]").select_option(source)
        form.locator("textarea[name=reason]").fill(reason)
        form.locator("input[name=planned_from]").fill(start.isoformat())
        form.locator("input[name=planned_to]").fill((start + timedelta(days=2)).isoformat())
        form.locator("select[data-officer='ZF-001']").select_option("leader")
        form.locator("select[data-officer='ZF-002']").select_option("member")

    name = w.http.get(f"/api/v1/enterprises/{code}", headers=w.admin).json()["name"]
    form.locator("input[name=credit_code]").fill(name[:4])  # the directory searched by name
    expect(page.locator(f"#ent-list option[value='{code}']")).to_have_count(1)
    form.locator("input[name=credit_code]").fill(code)
    form.locator("input[name=credit_code]").dispatch_event("change")
    expect(page.locator("#cap-remaining")).to_have_text("2")
    fill("complaint", "举报", TODAY)  # too short a reason: refused
    page.click("#create")
    expect(page.locator("#new-errors")).to_contain_text("必须写明理由")
    fill("complaint", "12345热线举报夜间违规动火作业", TODAY)
    page.click("#create")
    expect(page.locator("#cap-remaining")).to_have_text("1")
    first = int(page.locator("#new-link").get_attribute("href").rsplit("/", 1)[1])  # type: ignore[union-attr]
    page.click("#new-link")  # a 复查 of it, planned from the inspection's page
    page.click("#plan-follow-up")
    expect(page.locator("#cap-remaining")).to_have_text("1")
    expect(form.locator("select[name=source]")).to_have_value("follow_up")
    expect(form.locator("select[name=follow_up_of]")).to_have_value(str(first))
    fill("follow_up", "举报核查发现问题，整改期满后复查", TODAY)
    page.click("#create")
    expect(page.locator("#cap-remaining")).to_have_text("0")
    expect(page.locator("#cap-full")).to_contain_text("已达上限")  # the form refuses beyond it
    expect(page.locator("#create")).to_be_disabled()
    shot(page, "new-inspection-cap")
    followed = int(page.locator("#new-link").get_attribute("href").rsplit("/", 1)[1])  # type: ignore[union-attr]
    detail = w.http.get(f"/api/v1/inspections/{followed}", headers=w.admin).json()
    assert (detail["source"], detail["follow_up_of"]) == ("follow_up", first)
    again = _fetch(page, "POST", "/api/v1/inspections", body)  # and so does the API
    assert again["status"] == 409
    assert "检查次数已达上限" in again["message"]


def test_extension_requested_by_the_enterprise_and_decided_by_a_supervisor(
    page: Page, server: ServerThread, db_url: str, w: World
) -> None:
    w.finding()
    res = w.http.post(f"/api/v1/inspections/{w.iid}/rectification", headers=w.team)
    assert res.status_code == 201, res.text
    oid = res.json()["id"]
    asked, granted = SOON + timedelta(days=20), SOON + timedelta(days=10)
    sign_in(page, server, "ent1", PASSWORD)
    page.goto(server.url + f"/ui/#/rect/{oid}")
    page.click("#extension-link")
    form = page.locator("#ext-request")
    form.locator("input[name=requested_deadline]").fill(asked.isoformat())
    form.locator("textarea[name=reason]").fill("延期")  # too short: refused
    form.locator("button[type=submit]").click()
    expect(page.locator("#ext-errors")).to_contain_text("必须写明理由")
    form.locator("textarea[name=reason]").fill("整改所需防爆设备采购周期较长")
    form.locator("button[type=submit]").click()
    expect(page.locator("#ext-history")).to_contain_text("待审批")
    _sign_out(page)

    sign_in(page, server, "insp1", PASSWORD)  # the team's inspector cannot decide it
    expect(page.locator("#nav a[href='#/extensions']")).to_be_hidden()
    page.goto(server.url + "/ui/#/extensions")
    expect(page.locator("#view")).to_contain_text(ROLE_REFUSED)
    [ext] = w.http.get("/api/v1/rectification-extensions", headers=w.admin).json()
    decided = _fetch(
        page,
        "POST",
        f"/api/v1/rectification-extensions/{ext['id']}/decide",
        {"approve": True, "reason": "同意企业的延期申请"},
    )
    assert decided["status"] == 403
    assert ROLE_REFUSED in decided["message"]
    _sign_out(page)

    sign_in(page, server, "sup", PASSWORD)
    page.click("#nav a[href='#/extensions']")
    row = page.locator(f"#ext-queue tr[data-extension='{ext['id']}']")
    expect(row).to_contain_text("整改所需防爆设备采购周期较长")
    row.locator("input[data-deadline]").fill(granted.isoformat())
    row.locator("button[data-approve]").click()  # no reason: refused
    expect(row.locator("ul[data-errors]")).to_contain_text("必须写明理由")
    row.locator("input[data-reason]").fill("同意延期十日，逾期不再批准")
    row.locator("button[data-approve]").click()
    expect(row).to_contain_text(f"已批准（批准至 {granted.isoformat()}）")
    shot(page, "extension-decided")
    order = w.http.get(f"/api/v1/rectifications/{oid}", headers=w.admin).json()
    assert order["deadline"] == granted.isoformat()
    _sign_out(page)
    sign_in(page, server, "ent1", PASSWORD)
    page.goto(server.url + f"/ui/#/extension-request/{oid}")
    expect(page.locator("#current-deadline")).to_have_text(granted.isoformat())
    expect(page.locator("#ext-history")).to_contain_text("已批准")
