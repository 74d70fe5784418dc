"""Import rows (from CSV or XLSX) into directory records: every bad row reported, good ones kept."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

from domain.credit_code import credit_code_issue
from domain.directory import (
    CREDIT_CLASSES,
    Conflict,
    Contact,
    Enterprise,
    EnterpriseCode,
    InspectionHistory,
    InspectionItem,
    InspectionMethod,
    ItemId,
    Licence,
    Officer,
    OfficerId,
)
from domain.i18n import Message, msg

T = TypeVar("T")
_OFFICER_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
#: (row number as a spreadsheet shows it, {column header: cell text})
NumberedRow = tuple[int, Mapping[str, str]]

_TRUE = {"true", "yes", "y", "1", "是", "有", "在岗", "专家"}
_FALSE = {"false", "no", "n", "0", "否", "无", "", "不在岗", "执法人员"}
_COLOURS = {
    "red": "red", "红": "red", "红色": "red", "重大风险": "red", "重大": "red",
    "orange": "orange", "橙": "orange", "橙色": "orange", "较大风险": "orange", "较大": "orange",
    "yellow": "yellow", "黄": "yellow", "黄色": "yellow", "一般风险": "yellow", "一般": "yellow",
    "blue": "blue", "蓝": "blue", "蓝色": "blue", "低风险": "blue", "低": "blue",
}  # fmt: skip
_STATES = {
    "operating": "operating", "正常": "operating", "在产": "operating", "生产": "operating",
    "正常生产": "operating", "shutdown": "shutdown", "停产": "shutdown", "全厂停产": "shutdown",
    "trial": "trial", "试生产": "trial", "suspended": "suspended", "停业": "suspended",
    "歇业": "suspended",
}  # fmt: skip
_METHODS = {
    "onsite": InspectionMethod.ONSITE, "现场": InspectionMethod.ONSITE,
    "现场检查": InspectionMethod.ONSITE, "document": InspectionMethod.DOCUMENT,
    "书面": InspectionMethod.DOCUMENT, "书面检查": InspectionMethod.DOCUMENT,
    "online": InspectionMethod.ONLINE, "网络": InspectionMethod.ONLINE,
    "网络检查": InspectionMethod.ONLINE,
}  # fmt: skip

#: Canonical column → accepted headers (the first Chinese one is used on export).
ENTERPRISE_COLUMNS: dict[str, tuple[str, ...]] = {
    "credit_code": ("统一社会信用代码", "信用代码", "code"),
    "name": ("企业名称", "名称"),
    "county": ("县区", "所属县区", "区县", "行政区划"),
    "address": ("地址", "注册地址", "生产经营地址"),
    "sector": ("行业", "行业类别", "监管行业"),
    "risk_colour": ("风险等级", "风险颜色", "安全风险等级"),
    "credit_class": ("信用等级", "信用分类"),
    "standardisation_grade": ("标准化等级", "安全生产标准化等级"),
    "major_hazard_level": ("重大危险源等级",),
    "high_risk": ("高危", "是否高危"),
    "operating_state": ("经营状态", "生产状态"),
    "deregistered": ("注销", "是否注销"),
    "licences": ("许可证",),
    "contacts": ("联系人",),
    "inspections_this_year": ("本年检查次数",),
    "last_inspected_on": ("上次检查日期",),
}
ENTERPRISE_REQUIRED = ("credit_code", "name", "county", "sector", "risk_colour", "credit_class")
OFFICER_COLUMNS: dict[str, tuple[str, ...]] = {
    "officer_id": ("人员编号", "编号", "id"),
    "name": ("姓名",),
    "department": ("部门", "所属部门"),
    "county": ("县区", "所属县区", "区县"),
    "certificate_no": ("执法证号", "执法证件号"),
    "certificate_valid_from": ("证件有效期起", "有效期起"),
    "certificate_valid_to": ("证件有效期止", "有效期止"),
    "active": ("在岗", "是否在岗"),
    "auxiliary": ("专家", "是否专家"),
    "conflicts": ("回避企业",),
    "prior_load": ("本期已分配任务数",),
}
OFFICER_REQUIRED = ("officer_id", "name", "department", "county")
ITEM_COLUMNS: dict[str, tuple[str, ...]] = {
    "item_id": ("事项编号", "编号"),
    "item": ("抽查事项", "事项"),
    "sub_item": ("检查内容", "子项"),
    "legal_basis": ("法律依据", "依据"),
    "sectors": ("适用行业",),
    "method": ("检查方式", "方式"),
    "checklist_codes": ("清单式执法条目", "检查清单条目"),
}
ITEM_REQUIRED = ("item_id", "item", "legal_basis", "sectors", "method")


#: Header notes that are warnings (the column is ignored), not errors.
COLUMN_IGNORED = "import.column_ignored"
COLUMN_REPEATED = "import.column_repeated"
HEADER_NOTES = frozenset({COLUMN_IGNORED, COLUMN_REPEATED})


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one row: the row number, the column, and why."""

    row: int
    column: str
    reason: Message


@dataclass(frozen=True, slots=True)
class Parsed(Generic[T]):
    """The good records of a table and an error for every problem in a bad row."""

    records: tuple[T, ...]
    errors: tuple[RowError, ...]
    extras: dict[str, Any] = field(default_factory=dict)


class _Row:
    """Cell access by canonical column, collecting errors for this row."""

    def __init__(self, number: int, cells: Mapping[str, str], names: dict[str, str]) -> None:
        self.number, self.cells, self.names = number, cells, names
        self.errors: list[RowError] = []

    def text(self, column: str, *, required: bool = False, limit: int = 200) -> str:
        header = self.names.get(column)
        value = (self.cells.get(header, "") if header else "").strip()
        if required and not value:
            self.fail(column, msg("import.cell_empty"))
        if len(value) > limit:
            self.fail(column, msg("import.cell_too_long", limit=limit))
        if "\x00" in value:
            self.fail(column, msg("import.cell_nul"))
        return value

    def fail(self, column: str, reason: Message) -> None:
        self.errors.append(RowError(self.number, self.names.get(column, column), reason))

    def pick(self, column: str, table: Mapping[str, T], default: T | None = None) -> T | None:
        value = self.text(column)
        if not value and default is not None:
            return default
        found = table.get(value) or table.get(value.lower())
        if found is None:
            allowed = "、".join(sorted(set(map(str, table))))
            self.fail(column, msg("import.not_one_of", value=value, allowed=allowed))
        return found

    def flag(self, column: str, default: bool) -> bool:
        value = self.text(column).lower()
        if column not in self.names or value == "":
            return default
        if value in _TRUE:
            return True
        if value not in _FALSE:
            self.fail(column, msg("import.not_yes_no", value=value))
        return False

    def day(self, column: str) -> date | None:
        value = self.text(column)
        if not value:
            return None
        try:
            return date.fromisoformat(value.replace("/", "-"))
        except ValueError:
            self.fail(column, msg("import.not_a_date", value=value))
            return None

    def count(self, column: str) -> int:
        value = self.text(column) or "0"
        if not value.isdigit():
            self.fail(column, msg("import.not_whole_number", value=value))
            return 0
        return int(value)


def _resolve(
    headers: Iterable[str], columns: Mapping[str, tuple[str, ...]], required: tuple[str, ...]
) -> tuple[dict[str, str], list[RowError]]:
    names: dict[str, str] = {}
    errors: list[RowError] = []
    for header in headers:
        key = header.strip()
        found = next((c for c, aliases in columns.items()
                      if key == c or key in aliases or key.lower() == c), None)  # fmt: skip
        if found is None:
            errors.append(RowError(1, key, msg(COLUMN_IGNORED)))
        elif found in names:
            errors.append(RowError(1, key, msg(COLUMN_REPEATED, column=found)))
        else:
            names[found] = header
    for column in required:
        if column not in names:
            errors.append(RowError(1, columns[column][0], msg("import.column_missing")))
    return names, errors


def _parse(
    rows: Iterable[NumberedRow],
    columns: Mapping[str, tuple[str, ...]],
    required: tuple[str, ...],
    build: Callable[[_Row], tuple[str, T] | None],
) -> Parsed[T]:
    rows = list(rows)
    headers: list[str] = []
    for _, cells in rows:
        headers.extend(h for h in cells if h not in headers)
    names, errors = _resolve(headers, columns, required)
    if any(e.reason.code == "import.column_missing" for e in errors):
        return Parsed((), tuple(errors))
    records: list[T] = []
    first_seen: dict[str, int] = {}
    for number, cells in rows:
        row = _Row(number, cells, names)
        built = build(row)
        if built is None or row.errors:
            errors.extend(row.errors)
            continue
        key, record = built
        if key in first_seen:
            errors.append(
                RowError(
                    number, names[required[0]], msg("import.row_repeated", row=first_seen[key])
                )
            )
            continue
        first_seen[key] = number
        records.append(record)
    return Parsed(tuple(records), tuple(errors), {"row_of": first_seen})


def _split(value: str) -> list[str]:
    for sep in ("；", "、", "，", ","):
        value = value.replace(sep, ";")
    return [part.strip() for part in value.split(";") if part.strip()]


def _enterprise(row: _Row) -> tuple[str, Enterprise] | None:
    code = row.text("credit_code", required=True).upper()
    if code and (issue := credit_code_issue(code)):
        row.fail("credit_code", issue)
    klass = row.text("credit_class", required=True).upper()
    if klass and klass not in CREDIT_CLASSES:
        row.fail(
            "credit_class",
            msg("import.not_one_of", value=klass, allowed="、".join(CREDIT_CLASSES)),
        )
    licences = []
    for part in _split(row.text("licences", limit=2000)):
        bits = [b.strip() for b in part.split("|")]
        if len(bits) < 2 or len(bits) > 4:
            row.fail("licences", msg("import.licence_format", value=part))
            continue
        dates = []
        for text in bits[2:]:
            try:
                dates.append(date.fromisoformat(text) if text else None)
            except ValueError:
                row.fail("licences", msg("import.not_a_date", value=text))
                dates.append(None)
        dates += [None] * (2 - len(dates))
        licences.append(Licence(bits[0], bits[1], dates[0], dates[1]))
    contacts = []
    for part in _split(row.text("contacts", limit=2000)):
        bits = [b.strip() for b in part.split("|")] + ["", ""]
        contacts.append(Contact(bits[0], bits[1], bits[2]))
    ent = Enterprise(
        credit_code=EnterpriseCode(code),
        name=row.text("name", required=True),
        county=row.text("county", required=True),
        sector=row.text("sector", required=True),
        risk_colour=row.pick("risk_colour", _COLOURS) or "",
        credit_class=klass,
        address=row.text("address", limit=500),
        standardisation_grade=row.text("standardisation_grade"),
        major_hazard_level=row.text("major_hazard_level"),
        high_risk=row.flag("high_risk", False),
        operating_state=row.pick("operating_state", _STATES, "operating") or "",
        deregistered=row.flag("deregistered", False),
        licences=tuple(licences),
        contacts=tuple(contacts),
    )
    if "|" in ent.county or "|" in ent.sector:
        row.fail("sector", msg("import.no_bar"))
    return code, ent


def parse_enterprises(rows: Iterable[NumberedRow]) -> Parsed[Enterprise]:
    """Enterprise rows → records; `extras["history"]` holds any inspection-history columns."""
    history: dict[int, InspectionHistory] = {}

    def build(row: _Row) -> tuple[str, Enterprise] | None:
        built = _enterprise(row)
        if built and ("inspections_this_year" in row.names or "last_inspected_on" in row.names):
            code = EnterpriseCode(built[0])
            history[row.number] = InspectionHistory(
                code, row.count("inspections_this_year"), row.day("last_inspected_on")
            )
        return built

    parsed = _parse(rows, ENTERPRISE_COLUMNS, ENTERPRISE_REQUIRED, build)
    row_of = parsed.extras.get("row_of", {})
    parsed.extras["history"] = {
        e.credit_code: history[row_of[e.credit_code]]
        for e in parsed.records
        if row_of.get(e.credit_code) in history
    }
    return parsed


def _officer(row: _Row) -> tuple[str, Officer] | None:
    oid = OfficerId(row.text("officer_id", required=True, limit=64))
    if oid and not _OFFICER_ID.fullmatch(oid):
        row.fail("officer_id", msg("import.officer_id_chars"))
    conflicts = []
    for part in _split(row.text("conflicts", limit=5000)):
        code, _, reason = part.partition(":")
        code = code.strip().upper()
        if issue := credit_code_issue(code):
            row.fail("conflicts", msg("import.conflict_code", code=code, problem=issue))
        conflicts.append(Conflict(oid, EnterpriseCode(code), reason.strip()))
    officer = Officer(
        officer_id=oid,
        name=row.text("name", required=True),
        department=row.text("department", required=True),
        county=row.text("county", required=True),
        certificate_no=row.text("certificate_no"),
        certificate_valid_from=row.day("certificate_valid_from"),
        certificate_valid_to=row.day("certificate_valid_to"),
        active=row.flag("active", True),
        auxiliary=row.flag("auxiliary", False),
        conflicts=tuple(conflicts),
    )
    if "|" in officer.department:
        row.fail("department", msg("import.no_bar"))
    return oid, officer


def parse_officers(rows: Iterable[NumberedRow]) -> Parsed[Officer]:
    """Officer and expert rows → records; `extras["prior_load"]` holds any prior-load column."""
    prior: dict[int, int] = {}

    def build(row: _Row) -> tuple[str, Officer] | None:
        built = _officer(row)
        if built and "prior_load" in row.names:
            prior[row.number] = row.count("prior_load")
        return built

    parsed = _parse(rows, OFFICER_COLUMNS, OFFICER_REQUIRED, build)
    row_of = parsed.extras.get("row_of", {})
    parsed.extras["prior_load"] = {
        o.officer_id: prior[row_of[o.officer_id]]
        for o in parsed.records
        if row_of.get(o.officer_id) in prior
    }
    return parsed


def _item(row: _Row) -> tuple[str, InspectionItem] | None:
    sectors = _split(row.text("sectors", required=True, limit=1000))
    sectors = ["*" if s in {"*", "全部", "所有行业"} else s for s in sectors]
    method = row.pick("method", _METHODS)
    item = InspectionItem(
        item_id=ItemId(row.text("item_id", required=True, limit=64)),
        item=row.text("item", required=True),
        sub_item=row.text("sub_item", limit=1000),
        legal_basis=row.text("legal_basis", required=True, limit=1000),
        sectors=tuple(sectors),
        method=method or InspectionMethod.ONSITE,
        checklist_codes=tuple(_split(row.text("checklist_codes", limit=1000))),
    )
    return item.item_id, item


def parse_items(rows: Iterable[NumberedRow]) -> Parsed[InspectionItem]:
    """Inspection-item rows (抽查事项清单) → records."""
    return _parse(rows, ITEM_COLUMNS, ITEM_REQUIRED, _item)
