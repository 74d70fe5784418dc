"""Printable zh-CN task notices (任务通知书) with their inspection lists, as one HTML page."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from domain.inspection_list import METHOD_LABELS, PRINT_META_CSP, TaskNotice

STYLE = """
body { font-family: "Noto Serif CJK SC", "SimSun", "WenQuanYi Micro Hei", serif; margin: 2em; }
section { page-break-after: always; }
h1 { text-align: center; font-size: 1.5em; }
table { border-collapse: collapse; width: 100%; margin: .8em 0; }
th, td { border: 1px solid #333; padding: .3em .5em; text-align: left; vertical-align: top; }
.no { text-align: right; }
@media print { body { margin: 0; } }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def notice_html(notice: TaskNotice) -> str:
    """One notice: enterprise, window, team with certificate numbers, items with legal basis."""
    lst = notice.inspection
    staff = "".join(
        f"<tr><td>{_e(s.role)}</td><td>{_e(s.name)}</td><td>{_e(s.certificate_no)}</td>"
        f"<td>{_e(s.department)}</td></tr>"
        for s in lst.staff
    )
    items = "".join(
        f"<tr><td>{_e(i.item_id)}</td><td>{_e(i.item)}</td><td>{_e(i.sub_item)}</td>"
        f"<td>{_e(i.legal_basis)}</td><td>{_e(METHOD_LABELS.get(i.method, i.method))}</td></tr>"
        for i in lst.items
    )
    return (
        f"<section><h1>行政检查任务通知书</h1><p class='no'>{_e(notice.notice_no)}</p>"
        f"<p>{_e(lst.enterprise_name)}（统一社会信用代码 {_e(lst.credit_code)}）：</p>"
        f"<p>根据“双随机、一公开”抽查计划 {_e(lst.plan_id)}（{_e(lst.period)}），本机关定于 "
        f"{_e(lst.window_from.isoformat())} 至 {_e(lst.window_to.isoformat())} "
        f"对贵单位（{_e(lst.county)}，{_e(lst.address)}）实施安全生产行政检查。</p>"
        f"<table><tr><th>职责</th><th>姓名</th><th>执法证号</th><th>单位</th></tr>{staff}</table>"
        f"<table><tr><th>编号</th><th>抽查事项</th><th>检查内容</th><th>法律依据</th>"
        f"<th>检查方式</th></tr>{items}</table>"
        f"<p>{_e(notice.recusal_right)}</p><p>{_e(notice.credentials)}</p>"
        f"<p style='text-align:right'>{_e(notice.authority)}</p></section>"
    )


def notices_page(notices: Sequence[TaskNotice], *, title: str) -> str:
    """A whole printable page."""
    body = "".join(notice_html(n) for n in notices) or "<p>（无已配组的抽中企业）</p>"
    return (
        f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f'<meta http-equiv="Content-Security-Policy" content="{PRINT_META_CSP}">'
        f"<title>{_e(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )
