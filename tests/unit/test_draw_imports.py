"""CSV/XLSX directory imports: bad rows reported with row, column and reason; good rows kept."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from domain.directory import InspectionMethod
from domain.directory_table import enterprise_table, item_table, officer_table
from domain.i18n import EN, render
from domain.imports import parse_enterprises, parse_items, parse_officers
from domain.tabular import read_csv as rows_from_csv
from domain.tabular import read_xlsx as rows_from_xlsx
from domain.tabular_export import csv_bytes, xlsx_bytes
from scheduler.cli import read_rows
from tests.unit.draw_support import code

GOOD = code(1)
LICENCE = "危险化学品经营许可证|浙杭安经〔2023〕1|2023-01-01|2026-01-01"
HEADER = "统一社会信用代码,企业名称,县区,行业,风险等级,信用等级,经营状态,许可证,"
CSV = f"""{HEADER}本年检查次数,上次检查日期
{GOOD},杭州示例化工有限公司,330102,危化品经营,红,A,正常,{LICENCE},1,2024-12-01
{GOOD[:-1]}0,坏代码公司,330102,危化品经营,红,A,正常,,0,
{code(3)},,330102,工贸,紫,E,正常,,x,2024-13-01
{code(4)},第二家公司,330103,工贸,蓝色,b,停产,,0,
{GOOD},重复公司,330102,工贸,蓝,B,正常,,0,
"""


def test_bad_enterprise_rows_are_reported_and_good_rows_kept() -> None:
    parsed = parse_enterprises(rows_from_csv(CSV.encode("utf-8")))
    assert [e.credit_code for e in parsed.records] == [GOOD, code(4)]
    first, second = parsed.records
    assert first.risk_colour == "red"
    assert first.licences[0].valid_to == date(2026, 1, 1)
    assert second.credit_class == "B"
    assert second.operating_state == "shutdown"
    assert parsed.extras["history"][GOOD].inspections_this_year == 1
    errors = {(e.row, e.column) for e in parsed.errors}
    assert (3, "统一社会信用代码") in errors  # check character
    assert {
        (4, "企业名称"),
        (4, "风险等级"),
        (4, "信用等级"),
        (4, "本年检查次数"),
        (4, "上次检查日期"),
    } <= errors
    assert any(e.row == 6 and render(e.reason) == "与第2行重复" for e in parsed.errors)
    assert any(e.row == 6 and render(e.reason, EN) == "repeats row 2" for e in parsed.errors)
    assert all(render(e.reason) for e in parsed.errors)


def test_missing_required_column_is_a_header_error() -> None:
    parsed = parse_enterprises(rows_from_csv("企业名称,县区\n甲,330102\n".encode()))
    assert parsed.records == ()
    assert {e.column for e in parsed.errors if e.row == 1} >= {"统一社会信用代码", "行业"}


def test_gb18030_csv_is_read() -> None:
    parsed = parse_enterprises(rows_from_csv(CSV.encode("gb18030")))
    assert len(parsed.records) == 2


def test_xlsx_import_and_round_trip(tmp_path: Path) -> None:
    parsed = parse_enterprises(rows_from_csv(CSV.encode()))
    header, rows = enterprise_table(parsed.records, parsed.extras["history"])
    path = tmp_path / "e.xlsx"
    path.write_bytes(xlsx_bytes(header, rows, title="企业"))
    again = parse_enterprises(read_rows(path))
    assert again.errors == ()
    assert again.records == parsed.records
    assert again.extras["history"] == parsed.extras["history"]
    back = parse_enterprises(rows_from_xlsx(path.read_bytes()))
    assert back.records == parsed.records
    csv_path = tmp_path / "e.csv"
    csv_path.write_bytes(csv_bytes(header, rows))
    assert parse_enterprises(read_rows(csv_path)).records == parsed.records


def test_officers_experts_and_conflicts() -> None:
    text = f"""人员编号,姓名,部门,县区,执法证号,证件有效期起,证件有效期止,在岗,专家,回避企业
O1,张三,应急管理局,330102,浙001,2024-01-01,2027-12-31,是,否,{GOOD}:亲属任职; {code(4)}
E1,李四,专家库,330103,,,,是,是,
O2,王五,应急管理局,330102,浙002,2024-01-01,2027/12/31,在岗,否,{GOOD[:-1]}0
,无编号,应急管理局,330102,,,,,,
O 4,空格,应急管理局,330102,,,,,,
O3,赵六,市场监管局,330104,浙003,,2026-06-30,也许,否,
"""
    parsed = parse_officers(rows_from_csv(text.encode()))
    assert [o.officer_id for o in parsed.records] == ["O1", "E1"]
    o1, e1 = parsed.records
    assert [c.credit_code for c in o1.conflicts] == [GOOD, code(4)]
    assert o1.conflicts[0].reason == "亲属任职"
    assert e1.auxiliary
    assert not o1.auxiliary
    rows = {(e.row, e.column) for e in parsed.errors}
    assert {(4, "回避企业"), (5, "人员编号"), (6, "人员编号"), (7, "在岗")} <= rows
    header, table = officer_table(parsed.records)
    assert parse_officers(rows_from_csv(csv_bytes(header, table))).records == parsed.records


def test_inspection_items() -> None:
    text = """事项编号,抽查事项,检查内容,法律依据,适用行业,检查方式
I1,安全生产许可,许可证是否有效,《安全生产许可证条例》第二条,危化品生产、非煤矿山,现场
I2,教育培训,主要负责人培训,《安全生产法》第二十八条,全部,书面
I3,坏事项,,,工贸,飞鸽
"""
    parsed = parse_items(rows_from_csv(text.encode()))
    assert [i.item_id for i in parsed.records] == ["I1", "I2"]
    assert parsed.records[0].sectors == ("危化品生产", "非煤矿山")
    assert parsed.records[1].applies_to("烟花爆竹")
    assert parsed.records[1].method is InspectionMethod.DOCUMENT
    assert {(e.row, e.column) for e in parsed.errors} == {(4, "法律依据"), (4, "检查方式")}
    header, rows = item_table(parsed.records)
    assert parse_items(rows_from_csv(csv_bytes(header, rows))).records == parsed.records
