"""Inspection lists and task notices: applicable items with legal basis, team, dates, recusal."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from domain.directory import InspectionItem, InspectionMethod, ItemId
from domain.imports import parse_items
from domain.inspection_list import RECUSAL_RIGHT, build_lists, list_rows, notices
from domain.tabular import read_csv as rows_from_csv
from domain.tabular import read_xlsx as rows_from_xlsx
from scheduler.exports import lists_csv, lists_html, lists_xlsx, notices_html
from tests.unit.draw_support import enterprises, officers, run

ITEMS = (
    InspectionItem(ItemId("I1"), "安全生产许可", "许可证是否有效", "《安全生产许可证条例》第二条",
                   ("危化品经营",), InspectionMethod.ONSITE),
    InspectionItem(ItemId("I2"), "教育培训", "主要负责人考核", "《安全生产法》第二十七条", ("*",),
                   InspectionMethod.DOCUMENT),
    InspectionItem(ItemId("I3"), "爆破作业", "", "《民用爆炸物品安全管理条例》", ("非煤矿山",),
                   InspectionMethod.ONSITE),
)  # fmt: skip


def _lists():
    ents = enterprises(9)
    ents[0] = replace(ents[0], name="<script>甲</script>公司", address="上城区某路1号")
    offs = officers(3)
    drawn = run(ents=ents, offs=offs)
    by_code = {e.credit_code: e for e in ents}
    by_id = {o.officer_id: o for o in offs}
    return build_lists(
        plan_id="TEST-1", period="2025-03", window_from=date(2025, 3, 1),
        window_to=date(2025, 3, 31),
        teams=[(t.enterprise, t.officers, t.experts) for t in drawn.teams],
        enterprises=by_code, officers=by_id, items=ITEMS,
    ), drawn  # fmt: skip


def test_lists_carry_applicable_items_team_and_dates() -> None:
    lists, drawn = _lists()
    assert [x.credit_code for x in lists] == [t.enterprise for t in drawn.teams]
    for lst, team in zip(lists, drawn.teams, strict=True):
        assert [i.item_id for i in lst.items] == ["I1", "I2"]  # sector 危化品经营
        assert lst.staff[0].officer_id == team.leader
        assert lst.staff[0].role == "组长"
        assert all(s.certificate_no for s in lst.staff)
    header, rows = list_rows(lists)
    assert len(rows) == 2 * len(lists)
    assert rows[0][header.index("法律依据")] == "《安全生产许可证条例》第二条"


def test_exports_are_readable_and_html_is_escaped() -> None:
    lists, _ = _lists()
    csv_rows = rows_from_csv(lists_csv(lists))
    xlsx_rows = rows_from_xlsx(lists_xlsx(lists))
    assert [r for _, r in csv_rows] == [r for _, r in xlsx_rows]
    assert csv_rows[0][1]["检查起"] == "2025-03-01"
    page = lists_html(lists)
    assert page.startswith("<!DOCTYPE html>")
    assert 'lang="zh-CN"' in page
    assert "<script>" not in page
    assert "2025年3月1日至2025年3月31日" in page
    notes = notices(lists, authority="杭州市应急管理局", prefix="杭应急抽〔2025〕3月")
    assert notes[0].notice_no == "杭应急抽〔2025〕3月第001号"
    printed = notices_html(notes)
    assert printed.count("<section>") == len(lists)
    assert RECUSAL_RIGHT in printed
    assert "第四十三条" in printed
    assert "page-break-after" in printed


def test_items_import_feeds_the_lists() -> None:
    text = (
        "事项编号,抽查事项,检查内容,法律依据,适用行业,检查方式\n"
        "X1,应急预案,演练记录,《安全生产法》第八十一条,全部,书面\n"
    )
    parsed = parse_items(rows_from_csv(text.encode()))
    assert parsed.errors == ()
    assert parsed.records[0].applies_to("工贸")
