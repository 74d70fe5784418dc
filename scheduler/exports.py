"""Inspection lists and task notices as CSV, XLSX and a printable zh-CN HTML page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from domain.inspection_list import PRINT_META_CSP, InspectionList, TaskNotice, list_rows
from domain.tabular_export import csv_bytes, xlsx_bytes

STYLE = """
body { font-family: "Noto Serif CJK SC", "Songti SC", SimSun, serif; margin: 2em; color: #000; }
h1 { font-size: 1.5em; text-align: center; letter-spacing: .2em; }
h2 { font-size: 1.1em; margin-top: 1.2em; }
table { border-collapse: collapse; width: 100%; margin: .6em 0; }
th, td { border: 1px solid #000; padding: .3em .5em; text-align: left; vertical-align: top; }
.no { text-align: right; }
.sign { margin-top: 3em; text-align: right; }
section { page-break-after: always; }
section:last-child { page-break-after: auto; }
@page { size: A4; margin: 18mm; }
@media print { body { margin: 0; } }
"""


def _d(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _page(title: str, sections: Sequence[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{PRINT_META_CSP}">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )


def _staff_table(lst: InspectionList) -> str:
    rows = "".join(
        f"<tr><td>{escape(s.role)}</td><td>{escape(s.name)}</td>"
        f"<td>{escape(s.certificate_no or '—')}</td><td>{escape(s.department)}</td></tr>"
        for s in lst.staff
    )
    return (
        "<table><thead><tr><th>职责</th><th>姓名</th><th>执法证号</th><th>单位</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _items_table(lst: InspectionList) -> str:
    if not lst.items:
        return "<p>本行业暂无适用的抽查事项。</p>"
    rows = "".join(
        f"<tr><td>{n}</td><td>{escape(i.item)}</td><td>{escape(i.sub_item)}</td>"
        f"<td>{escape(i.legal_basis)}</td><td>{escape(i.method)}</td></tr>"
        for n, i in enumerate(lst.items, start=1)
    )
    return (
        "<table><thead><tr><th>序号</th><th>抽查事项</th><th>检查内容</th><th>法律依据</th>"
        f"<th>检查方式</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _heading(lst: InspectionList) -> str:
    return (
        f"<p>被检查单位：{escape(lst.enterprise_name)}（统一社会信用代码 "
        f"{escape(lst.credit_code)}）<br>地址：{escape(lst.address or lst.county)}<br>"
        f"检查时间：{_d(lst.window_from)}至{_d(lst.window_to)}</p>"
    )


def lists_html(lists: Sequence[InspectionList], *, title: str = "双随机抽查检查清单") -> str:
    """A printable page with one inspection list (检查清单) per drawn enterprise."""
    sections = [
        f"<section><h1>{escape(title)}</h1>"
        f'<p class="no">计划 {escape(lst.plan_id)} · 周期 {escape(lst.period)}</p>'
        f"{_heading(lst)}<h2>检查组</h2>{_staff_table(lst)}"
        f"<h2>检查事项</h2>{_items_table(lst)}</section>"
        for lst in lists
    ]
    return _page(title, sections)


def notices_html(notices: Sequence[TaskNotice]) -> str:
    """A printable page with one task notice (检查任务通知书) per team."""
    sections = []
    for n in notices:
        lst = n.inspection
        sections.append(
            "<section><h1>检查任务通知书</h1>"
            f'<p class="no">{escape(n.notice_no)}</p>'
            f"<p>{escape(lst.enterprise_name)}：</p>"
            f"<p>根据“双随机、一公开”抽查计划（{escape(lst.plan_id)}，{escape(lst.period)}），"
            f"本机关决定于{_d(lst.window_from)}至{_d(lst.window_to)}期间对你单位实施行政检查。"
            "检查组成员如下：</p>"
            f"{_staff_table(lst)}<h2>检查事项</h2>{_items_table(lst)}"
            f"<p>{escape(n.credentials)}</p>"
            f"<h2>申请回避的权利</h2><p>{escape(n.recusal_right)}</p>"
            f'<p class="sign">{escape(n.authority)}<br>（印章）</p></section>'
        )
    return _page("检查任务通知书", sections)


def lists_csv(lists: Sequence[InspectionList]) -> bytes:
    """Inspection lists as CSV, one row per enterprise and applicable item."""
    return csv_bytes(*list_rows(lists))


def lists_xlsx(lists: Sequence[InspectionList]) -> bytes:
    """Inspection lists as an XLSX workbook."""
    header, rows = list_rows(lists)
    return xlsx_bytes(header, rows, title="检查清单")
