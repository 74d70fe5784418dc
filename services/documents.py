"""Enforcement documents built from the records: 现场检查记录, 责令限期整改指令书, 整改复查意见书
and 不予行政处罚决定书, each listing every finding's basis, cause and measure, under the bureau's
name and a number from its sequence (config/documents.yaml); a document keeps the number it was
first issued with."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from config.policy_documents import DocumentSettings
from domain.documents import Document, Table, findings_table
from domain.errors import NotFound, RuleViolation
from domain.i18n import msg, render
from domain.inspection_access import role_label
from domain.rectification import doc_number
from storage import findings, inspection_teams, inspections
from storage import rectification as orders
from storage.findings import FindingRecord

SHANGHAI = ZoneInfo("Asia/Shanghai")
INSPECTION_KINDS = ("inspection_record", "rectification_order", "reinspection_opinion")


def _d(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    day = value.astimezone(SHANGHAI).date() if isinstance(value, datetime) else value
    return f"{day.year}年{day.month}月{day.day}日"


def finding_rows(rows: list[FindingRecord], *, result: bool = False) -> list[tuple[str, ...]]:
    """The findings' table rows: basis (flagged when free text), cause, penalty article,
    measure, deadline (and the 复查 result)."""
    out: list[tuple[str, ...]] = []
    for n, f in enumerate(rows, 1):
        cells: tuple[str, ...] = (
            str(n),
            f.item_code,
            f.cause,
            f.legal_basis + ("（自由填写，已标记）" if f.basis_free_text else ""),
            f.penalty_basis or "—",
            f.measure,
            "当场改正" if f.corrected_on_site else _d(f.deadline),
        )
        if result:
            verdict = {"passed": "复查通过", "failed": "复查未通过"}.get(
                f.reinspection_result or "", "未复查"
            )
            cells += (f"{verdict} {f.reinspection_note}".strip(),)
        out.append(cells)
    return out


async def document_number(
    conn: AsyncConnection[Any], *, documents: DocumentSettings, kind: str, subject: str, year: int
) -> str:
    """The number a document was first issued with, else the next of its kind's sequence."""
    found = await orders.issued_number(conn, kind=kind, subject=subject)
    if found is not None:
        return found
    n = await orders.next_number(conn, kind=kind, year=year)
    kept = await orders.issue_number(
        conn, kind=kind, subject=subject, doc_no=doc_number(documents.prefix(kind), year, n)
    )
    if kept is not None:
        return kept
    again = await orders.issued_number(conn, kind=kind, subject=subject)
    assert again is not None
    return again


async def for_inspection(
    conn: AsyncConnection[Any],
    *,
    inspection_id: int,
    kind: str,
    documents: DocumentSettings,
    now: datetime,
) -> Document:
    """One of the inspection's documents (its enterprise checked by the caller)."""
    if kind not in INSPECTION_KINDS:
        raise NotFound(msg("document.unknown", kind=kind))
    inspection = await inspections.get_inspection(conn, inspection_id=inspection_id)
    team = await inspection_teams.team(conn, inspection_id=inspection_id)
    staff = "；".join(
        f"{m.name}（{render(role_label(m.role))}，执法证号 {m.certificate_no or '—'}）"
        for m in team
    )
    base = (
        ("被检查单位", inspection.enterprise_name),
        ("统一社会信用代码", inspection.credit_code),
    )
    if kind == "inspection_record":
        rows = await findings.for_inspection(conn, inspection_id=inspection_id)
        number = await document_number(
            conn, documents=documents, kind=kind, subject=str(inspection_id), year=now.year
        )
        when = inspection.inspected_on or inspection.planned_from
        statements = [
            f"第{n}项：被检查单位意见——"
            + {"agree": "无异议", "object": f"有异议：{f.statement_note}"}.get(
                f.statement or "", "未表态"
            )
            for n, f in enumerate(rows, 1)
        ]
        return Document(
            kind=kind,
            bureau=documents.bureau,
            doc_no=number,
            fields=(*base, ("检查时间", _d(when)), ("检查人员", staff)),
            tables=(findings_table(finding_rows(rows)),),
            paragraphs=(
                "执法人员已出示行政执法证件（《行政处罚法》第五十五条）；专家作为辅助人员参加检查。",
                *statements,
            ),
        )
    order = await orders.order_of_inspection(conn, inspection_id=inspection_id)
    if order is None:
        raise NotFound(msg("document.no_order", inspection_id=inspection_id))
    rows = await findings.for_order(conn, order_id=order.id)
    if kind == "rectification_order":
        return Document(
            kind=kind,
            bureau=documents.bureau,
            doc_no=order.doc_no,
            fields=(*base, ("检查人员", staff), ("整改期限", _d(order.deadline))),
            tables=(findings_table(finding_rows(rows)),),
            paragraphs=(
                f"你单位存在上述问题，依据《中华人民共和国安全生产法》第六十五条第一款第（二）项，"
                f"责令你单位于{_d(order.deadline)}前整改完毕，并在平台确认收到、上传整改证据。",
                "整改期间应当采取措施保证安全；逾期未整改的，依法处理。",
            ),
        )
    if order.state != "closed" and not any(f.reinspection_result for f in rows):
        raise RuleViolation(msg("document.not_reinspected", doc_no=order.doc_no))
    number = await document_number(
        conn, documents=documents, kind=kind, subject=str(order.id), year=now.year
    )
    table = findings_table(finding_rows(rows, result=True))
    return Document(
        kind=kind,
        bureau=documents.bureau,
        doc_no=number,
        fields=(*base, ("原整改指令书", order.doc_no), ("复查人员", staff)),
        tables=(Table(table.caption, (*table.headers, "复查结果"), table.rows),),
        paragraphs=(
            "经复查，全部问题已整改完毕。"
            if order.state == "closed"
            else "经复查，尚有问题未整改完毕，请继续整改。",
        ),
    )


async def no_penalty_decision(
    conn: AsyncConnection[Any], *, finding_id: int, documents: DocumentSettings, now: datetime
) -> Document:
    """不予行政处罚决定书 of a finding decided (or recommended and not lapsed) 不予/首违."""
    row = await findings.get(conn, finding_id=finding_id)
    outcome = row.decision or row.recommendation
    if outcome not in ("no_penalty", "first_violation") or row.lapsed_at is not None:
        raise RuleViolation(msg("document.not_no_penalty", finding_id=finding_id))
    assert row.inspection_id is not None
    inspection = await inspections.get_inspection(conn, inspection_id=row.inspection_id)
    number = await document_number(
        conn,
        documents=documents,
        kind="no_penalty_decision",
        subject=str(finding_id),
        year=now.year,
    )
    sentence = "第一句" if outcome == "no_penalty" else "第二句"
    return Document(
        kind="no_penalty_decision",
        bureau=documents.bureau,
        doc_no=number,
        fields=(
            ("当事人", inspection.enterprise_name),
            ("统一社会信用代码", inspection.credit_code),
        ),
        tables=(findings_table(finding_rows([row])),),
        paragraphs=(
            f"依据《中华人民共和国行政处罚法》第三十三条第一款{sentence}，决定对你单位不予行政处罚。",
            "依据同条第三款，行政机关已对你单位进行教育；你单位应当按期完成整改，"
            f"逾期未经复查确认整改完成的（{_d(row.verify_by)}），本决定所依据的及时改正情形不成立，依法处理。",
            "审查的规则及结果：" + "；".join(str(c["text"]) for c in row.advice),
            "如不服本决定，可以依法申请行政复议或者提起行政诉讼。",
        ),
        signatures=("执法人员（签名）：", "（印章）"),
    )
