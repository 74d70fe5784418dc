"""Enforcement documents (执法文书) as a plain model and as printable HTML (every value escaped,
nothing that runs). The PDF of the same model is drawn by api/documents_pdf.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from domain.inspection_list import PRINT_META_CSP

#: Document kinds with their titles (《安全生产监管监察执法文书式样》's names).
TITLES = {
    "inspection_record": "现场检查记录",
    "rectification_order": "责令限期整改指令书",
    "reinspection_opinion": "整改复查意见书",
    "no_penalty_decision": "不予行政处罚决定书",
    # the flexible instruments (measure 4; domain/instruments.py)
    "rectify_notice": "责令限期改正通知书",
    "education_notice": "批评教育告知书",
    "interview_notice": "约谈通知书",
    "interview_record": "约谈记录",
    "warning_notice": "行政告诫书",
}


SIGNATURES = ("执法人员（签名）：", "被检查单位负责人（签名）：")
FINDING_HEADERS = ("序号", "检查项", "违法事实（原因）", "法律依据", "处罚依据", "整改措施", "期限")


@dataclass(frozen=True, slots=True)
class Table:
    """A captioned table of rows."""

    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Document:
    """One document: who issues it, its number, the facts, the tables and the closing text."""

    kind: str
    bureau: str
    doc_no: str
    fields: tuple[tuple[str, str], ...]
    tables: tuple[Table, ...] = ()
    paragraphs: tuple[str, ...] = ()
    signatures: tuple[str, ...] = field(
        default=("执法人员（签名）：", "被检查单位负责人（签名）：")
    )

    @property
    def title(self) -> str:
        """The document's title."""
        return TITLES[self.kind]


def findings_table(rows: Sequence[tuple[str, ...]]) -> Table:
    """The table every document lists its findings in: basis, cause, measure, deadline."""
    return Table(
        caption="检查发现的问题及依据",
        headers=(
            "序号",
            "检查项",
            "违法事实（原因）",
            "法律依据",
            "处罚依据",
            "整改措施",
            "整改期限",
        ),
        rows=tuple(rows),
    )


_STYLE = (
    "body{font-family:'WenQuanYi Micro Hei','Noto Sans CJK SC',sans-serif;margin:2em;}"
    "h1{text-align:center;font-size:1.6em;}h2{text-align:center;font-size:1.1em;}"
    ".no{text-align:right;}table{border-collapse:collapse;width:100%;margin:1em 0;}"
    "td,th{border:1px solid #333;padding:4px;vertical-align:top;font-size:.9em;}"
    "dl{display:grid;grid-template-columns:9em 1fr;gap:.3em;}dt{font-weight:bold;}"
    ".sig{margin-top:2em;display:flex;justify-content:space-between;}"
    "@media print{body{margin:0;}}"
)


def to_html(doc: Document) -> str:
    """The document as a self-contained printable page (its own CSP, no script)."""
    parts = [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f'<meta http-equiv="Content-Security-Policy" content="{PRINT_META_CSP}">',
        f"<title>{escape(doc.title)} {escape(doc.doc_no)}</title><style>{_STYLE}</style></head>",
        f"<body><h2>{escape(doc.bureau)}</h2><h1>{escape(doc.title)}</h1>",
        f"<p class='no'>{escape(doc.doc_no)}</p><dl>",
    ]
    for label, value in doc.fields:
        parts.append(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>")
    parts.append("</dl>")
    for table in doc.tables:
        parts.append(f"<table><caption>{escape(table.caption)}</caption><tr>")
        parts += [f"<th>{escape(h)}</th>" for h in table.headers]
        parts.append("</tr>")
        for row in table.rows:
            parts.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
        parts.append("</table>")
    parts += [f"<p>{escape(p)}</p>" for p in doc.paragraphs]
    parts.append("<div class='sig'>")
    parts += [f"<span>{escape(s)}</span>" for s in doc.signatures]
    parts.append("</div></body></html>")
    return "".join(parts)
