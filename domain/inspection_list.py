"""Inspection lists per drawn enterprise and task notices (任务通知书) per team, as plain data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from domain.directory import Enterprise, InspectionItem, Officer

ROLE_LEADER, ROLE_MEMBER, ROLE_EXPERT = "组长", "组员", "专家"
METHOD_LABELS = {"onsite": "现场检查", "document": "书面检查", "online": "网络检查"}
#: 行政处罚法 Art. 43: the inspected party may ask for an officer's recusal.
RECUSAL_RIGHT = (
    "依据《中华人民共和国行政处罚法》第四十三条，执法人员与案件有直接利害关系或者有其他关系"
    "可能影响公正执法的，应当回避。贵单位认为检查组成员存在上述情形的，有权在检查开始前或者"
    "检查过程中向本机关提出回避申请，并说明理由。"
)
CREDENTIALS = "检查人员将出示行政执法证件；专家仅协助检查，不单独实施行政检查。"

#: A printable notice or list, saved or served, runs nothing and loads nothing: its own style only.
PRINT_META_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A team member as shown to the enterprise: name, certificate number, department, role."""

    officer_id: str
    name: str
    certificate_no: str
    department: str
    role: str


@dataclass(frozen=True, slots=True)
class ChecklistEntry:
    """One applicable item of the inspection-item list, with its legal basis."""

    item_id: str
    item: str
    sub_item: str
    legal_basis: str
    method: str


@dataclass(frozen=True, slots=True)
class InspectionList:
    """What one team checks at one drawn enterprise, and when."""

    plan_id: str
    period: str
    credit_code: str
    enterprise_name: str
    county: str
    address: str
    sector: str
    window_from: date
    window_to: date
    staff: tuple[StaffMember, ...]
    items: tuple[ChecklistEntry, ...]


@dataclass(frozen=True, slots=True)
class TaskNotice:
    """检查任务通知书: the enterprise is told who inspects, when, what, and its right of recusal."""

    notice_no: str
    authority: str
    inspection: InspectionList
    recusal_right: str = RECUSAL_RIGHT
    credentials: str = CREDENTIALS


def build_lists(
    *,
    plan_id: str,
    period: str,
    window_from: date,
    window_to: date,
    teams: Sequence[tuple[str, Sequence[str], Sequence[str]]],
    enterprises: Mapping[str, Enterprise],
    officers: Mapping[str, Officer],
    items: Sequence[InspectionItem] = (),
    listed: Mapping[str, Sequence[ChecklistEntry]] | None = None,
) -> list[InspectionList]:
    """One list per team `(credit code, officer ids leader first, expert ids)`, in that order:
    the `items` that apply to the enterprise's sector, or, for a drawn record whose inspections
    carry their lists, the enterprise's own list from `listed`."""
    out = []
    for code, officer_ids, expert_ids in teams:
        ent = enterprises[code]
        staff = [
            _member(officers[oid], ROLE_LEADER if i == 0 else ROLE_MEMBER)
            for i, oid in enumerate(officer_ids)
        ]
        staff += [_member(officers[xid], ROLE_EXPERT) for xid in expert_ids]
        applicable = (
            tuple(listed.get(code, ()))
            if listed is not None
            else tuple(
                ChecklistEntry(
                    i.item_id, i.item, i.sub_item, i.legal_basis, METHOD_LABELS[i.method.value]
                )
                for i in items
                if i.applies_to(ent.sector)
            )
        )
        out.append(
            InspectionList(
                plan_id=plan_id,
                period=period,
                credit_code=code,
                enterprise_name=ent.name,
                county=ent.county,
                address=ent.address,
                sector=ent.sector,
                window_from=window_from,
                window_to=window_to,
                staff=tuple(staff),
                items=applicable,
            )
        )
    return out


def _member(officer: Officer, role: str) -> StaffMember:
    return StaffMember(
        officer.officer_id, officer.name, officer.certificate_no, officer.department, role
    )


def notices(lists: Sequence[InspectionList], *, authority: str, prefix: str) -> list[TaskNotice]:
    """A numbered task notice per team (`prefix` like "杭应急抽〔2025〕3月" gives 第001号 …)."""
    return [
        TaskNotice(f"{prefix}第{n:03d}号", authority, lst) for n, lst in enumerate(lists, start=1)
    ]


LIST_HEADER = [
    "计划编号", "周期", "统一社会信用代码", "企业名称", "县区", "地址", "行业", "检查起", "检查止",
    "组长", "组员", "专家", "事项编号", "抽查事项", "检查内容", "法律依据", "检查方式",
]  # fmt: skip


def list_rows(lists: Sequence[InspectionList]) -> tuple[list[str], list[list[str]]]:
    """One row per (enterprise, applicable item) for CSV/XLSX export."""
    rows = []
    for lst in lists:
        leader = [s for s in lst.staff if s.role == ROLE_LEADER]
        members = [s for s in lst.staff if s.role == ROLE_MEMBER]
        experts = [s for s in lst.staff if s.role == ROLE_EXPERT]
        people = [
            "、".join(f"{s.name}({s.certificate_no or s.department})" for s in group)
            for group in (leader, members, experts)
        ]
        head = [
            lst.plan_id, lst.period, lst.credit_code, lst.enterprise_name, lst.county, lst.address,
            lst.sector, lst.window_from.isoformat(), lst.window_to.isoformat(), *people,
        ]  # fmt: skip
        for entry in lst.items or (ChecklistEntry("", "", "", "", ""),):
            rows.append(
                [*head, entry.item_id, entry.item, entry.sub_item, entry.legal_basis, entry.method]
            )
    return LIST_HEADER, rows
