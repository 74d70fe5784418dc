"""Browser (Debian chromium): a flexible instrument (measure 4) on a finding's page. The team's
inspector records a 行政约谈 (its meeting is refused field by field in zh-CN until stated), its
documents are offered as HTML and PDF, the minutes form records the talk once, and the
约谈记录 downloads as a PDF whose extracted text holds the finding's basis, cause and measure."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.e2e import dashboard_support as support
from tests.e2e.dashboard_support import shot, sign_in
from tests.e2e.test_workbench_pages import FINDING, World
from tests.integration.apiclient import PASSWORD
from tests.integration.liveserver import ServerThread

pytestmark = pytest.mark.e2e
browser, server, page = support.browser, support.server, support.page
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def w(server: ServerThread, db_url: str) -> Iterator[World]:
    world = World(server, db_url)
    yield world
    world.http.close()


def _local(at: datetime) -> str:
    """A datetime-local input's value in bureau time."""
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def _flat(text: str) -> str:
    return "".join(text.split())


def test_interview_documents_and_minutes_on_the_finding_page(
    page: Page, server: ServerThread, db_url: str, w: World
) -> None:
    finding = w.finding()
    sign_in(page, server, "insp1", PASSWORD)
    page.goto(server.url + f"/ui/#/finding/{finding['id']}")
    form = page.locator("#measure-form")
    expect(form.locator("#interview-facts")).to_be_hidden()
    form.locator("select[name=kind]").select_option("interview")
    expect(form.locator("#interview-facts")).to_be_visible()
    form.locator("textarea[name=content]").fill("约谈企业主要负责人，督促落实全员安全生产培训制度")
    form.locator("button[type=submit]").click()  # the meeting not stated: refused per field
    errors = page.locator("#measure-errors")
    expect(errors.locator("li[data-field=meeting_at]")).to_be_visible()
    expect(errors.locator("li[data-field=meeting_place]")).to_be_visible()
    expect(errors.locator("li[data-field=meeting_attendee]")).to_be_visible()
    shot(page, "interview-refused")
    meeting = datetime.now(SHANGHAI) + timedelta(days=2)
    form.locator("input[name=meeting_at]").fill(_local(meeting))
    form.locator("input[name=meeting_place]").fill("昌吉州应急管理局三楼会议室")
    form.locator("input[name=meeting_attendee]").fill("企业主要负责人 张某某（总经理）")
    form.locator("button[type=submit]").click()
    row = page.locator("#measures tr[data-measure]")
    expect(row).to_contain_text("行政约谈")
    expect(row).to_contain_text("昌吉州应急管理局三楼会议室")
    expect(row.locator("[data-doc=interview_notice] button")).to_have_count(2)  # HTML and PDF
    expect(row.locator("[data-doc=interview_record]")).to_have_count(0)  # not held yet
    measure_id = int(row.get_attribute("data-measure") or 0)
    with psycopg.connect(db_url) as conn:
        stored = conn.execute(
            "SELECT meeting_at FROM enforcement_measures WHERE id = %s", (measure_id,)
        ).fetchone()
    assert stored is not None
    assert stored[0] == meeting.replace(second=0, microsecond=0)  # bureau time, to the minute

    with page.expect_download() as notice:
        row.locator("[data-doc=interview_notice] button[data-format=html]").click()
    html = Path(notice.value.path()).read_text(encoding="utf-8")
    assert "约谈通知书" in html
    assert notice.value.suggested_filename == f"约谈通知书-{measure_id}.html"

    minutes = page.locator(f"form[data-minutes='{measure_id}']")
    minutes.locator("input[name=attendees]").fill("张某某（总经理）、李某（安全总监）")
    minutes.locator("textarea[name=minutes]").fill("短")
    minutes.locator("button[type=submit]").click()  # no time, too short: refused in zh-CN
    expect(minutes.locator("ul.error li")).not_to_have_count(0)
    held = datetime.now(SHANGHAI) - timedelta(hours=1)
    minutes.locator("input[name=held_at]").fill(_local(held))
    said = "指出三名新员工未经三级安全教育上岗的问题，企业承诺十日内补训并报送档案"
    minutes.locator("textarea[name=minutes]").fill(said)
    minutes.locator("button[type=submit]").click()
    expect(page.locator("#measures .interview-held")).to_contain_text("张某某（总经理）")
    expect(page.locator("form[data-minutes]")).to_have_count(0)  # once
    record = page.locator("#measures [data-doc=interview_record]")
    expect(record.locator("button")).to_have_count(2)
    shot(page, "interview-minutes")

    with page.expect_download() as pdf:
        record.locator("button[data-format=pdf]").click()
    data = Path(pdf.value.path()).read_bytes()
    assert data.startswith(b"%PDF")
    text = _flat("".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))
    assert "约谈记录" in text
    for field in ("legal_basis", "cause", "measure"):
        assert _flat(FINDING[field]) in text, field
    assert _flat(said) in text
    with psycopg.connect(db_url) as conn:
        audit = conn.execute(
            "SELECT username FROM audit_log WHERE action = 'measure.minutes' AND target = %s",
            (f"measure:{measure_id}",),
        ).fetchall()
    assert audit == [("insp1",)]
