"""HTTP models of the enterprise directory and the mapping of imported table rows onto them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.credit_code import credit_code_problem

RiskColour = Literal["red", "orange", "yellow", "blue"]
CreditClass = Literal["A", "B", "C", "D"]
OperatingState = Literal["operating", "shutdown", "trial", "suspended"]

EXAMPLE: dict[str, Any] = {
    "credit_code": "91330102100000000H",
    "name": "杭州华东化工有限公司",
    "county": "上城区",
    "address": "杭州市上城区江南大道1号",
    "sector": "hazchem_production",
    "risk_colour": "orange",
    "credit_class": "B",
    "major_hazard_level": 2,
    "high_risk": True,
    "contacts": [{"name": "张安全", "phone": "0571-00000000", "role": "安全负责人"}],
    "licences": [
        {
            "kind": "安全生产许可证",
            "number": "(浙)WH安许证字〔2024〕-0001",
            "valid_from": "2024-01-01",
            "valid_to": "2027-01-01",
        }
    ],
}


class Contact(BaseModel):
    """A person to contact at the enterprise."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=50)
    phone: str = Field(default="", max_length=30)
    role: str = Field(default="", max_length=50)


class Licence(BaseModel):
    """A licence: type, number and validity."""

    model_config = ConfigDict(extra="forbid")
    kind: str = Field(min_length=1, max_length=50)
    number: str = Field(min_length=1, max_length=80)
    valid_from: date | None = None
    valid_to: date | None = None


class EnterpriseFields(BaseModel):
    """The editable attributes of an enterprise."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)
    county: str = Field(min_length=1, max_length=50)
    address: str = Field(default="", max_length=200)
    sector: str = Field(min_length=1, max_length=50)
    risk_colour: RiskColour = "blue"
    credit_class: CreditClass = "B"
    standardisation_grade: str | None = Field(default=None, max_length=20)
    major_hazard_level: int | None = Field(default=None, ge=1, le=4)
    high_risk: bool = False
    operating_state: OperatingState = "operating"
    deregistered: bool = False
    contacts: list[Contact] = Field(default_factory=list, max_length=20)
    licences: list[Licence] = Field(default_factory=list, max_length=20)


class EnterpriseIn(EnterpriseFields):
    """A new directory entry; the credit code's check character is verified (GB 32100-2015)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})
    credit_code: str = Field(min_length=1, max_length=40, description="18-character credit code")


class EnterprisePatch(BaseModel):
    """Changes to an enterprise; absent fields stay as they are."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"risk_colour": "red"}, {"operating_state": "shutdown"}]},
    )
    name: str | None = Field(default=None, min_length=1, max_length=200)
    county: str | None = Field(default=None, min_length=1, max_length=50)
    address: str | None = Field(default=None, max_length=200)
    sector: str | None = Field(default=None, min_length=1, max_length=50)
    risk_colour: RiskColour | None = None
    credit_class: CreditClass | None = None
    standardisation_grade: str | None = Field(default=None, max_length=20)
    major_hazard_level: int | None = Field(default=None, ge=1, le=4)
    high_risk: bool | None = None
    operating_state: OperatingState | None = None
    deregistered: bool | None = None
    contacts: list[Contact] | None = Field(default=None, max_length=20)
    licences: list[Licence] | None = Field(default=None, max_length=20)


class EnterpriseOut(EnterpriseFields):
    """A directory entry."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [EXAMPLE]})
    credit_code: str
    created_at: datetime
    updated_at: datetime


class RowError(BaseModel):
    """Why one row of an import was refused."""

    row: int = Field(description="row number as the spreadsheet shows it (header is row 1)")
    column: str
    reason: str


class ImportReport(BaseModel):
    """What an import did: valid rows are kept, every refused row is listed."""

    rows: int
    created: int
    updated: int
    rejected: int
    dry_run: bool
    errors: list[RowError]


#: Accepted column headers (zh-CN and English) → field.
HEADERS: dict[str, str] = {}
for _field, _names in {
    "credit_code": ("统一社会信用代码", "信用代码", "credit_code", "code"),
    "name": ("企业名称", "名称", "name"),
    "county": ("区县", "所属区县", "county"),
    "address": ("地址", "address"),
    "sector": ("行业", "行业类别", "sector"),
    "risk_colour": ("风险等级", "风险颜色", "risk_colour", "risk_color"),
    "credit_class": ("信用等级", "credit_class"),
    "standardisation_grade": ("标准化等级", "standardisation_grade"),
    "major_hazard_level": ("重大危险源等级", "major_hazard_level"),
    "high_risk": ("高危", "高风险", "high_risk"),
    "operating_state": ("经营状态", "状态", "operating_state"),
    "deregistered": ("注销", "已注销", "deregistered"),
    "contact_name": ("联系人", "contact_name"),
    "contact_phone": ("联系电话", "contact_phone"),
    "licence_kind": ("许可证类型", "licence_kind"),
    "licence_number": ("许可证编号", "licence_number"),
    "licence_valid_from": ("许可证有效期起", "licence_valid_from"),
    "licence_valid_to": ("许可证有效期止", "licence_valid_to"),
}.items():
    for _name in _names:
        HEADERS[_name.lower()] = _field

VALUE_ALIASES: dict[str, dict[str, str]] = {
    "risk_colour": {
        "红": "red",
        "红色": "red",
        "橙": "orange",
        "橙色": "orange",
        "黄": "yellow",
        "黄色": "yellow",
        "蓝": "blue",
        "蓝色": "blue",
    },
    "operating_state": {
        "正常": "operating",
        "在产": "operating",
        "营业": "operating",
        "停产": "shutdown",
        "试生产": "trial",
        "停业": "suspended",
    },
    "major_hazard_level": {"一级": "1", "二级": "2", "三级": "3", "四级": "4"},
}
TRUE = {"是", "true", "1", "y", "yes"}
FALSE = {"否", "false", "0", "n", "no", ""}
REQUIRED = ("credit_code", "name", "county", "sector")


def missing_columns(headers: set[str]) -> list[str]:
    """Required fields that no header of the table maps to."""
    present = {HEADERS.get(h.lower()) for h in headers}
    return [f for f in REQUIRED if f not in present]


def _flag(column: str, text: str) -> bool:
    low = text.lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    raise ValueError(f"{text!r} is not yes/no (是/否) in {column}")


def parse_row(cells: dict[str, str]) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """Map one row onto directory fields; return (values, []) or (None, [(column, reason)])."""
    raw: dict[str, str] = {}
    column_of: dict[str, str] = {}
    for header, text in cells.items():
        field = HEADERS.get(header.lower())
        if field is not None:
            raw[field] = VALUE_ALIASES.get(field, {}).get(text, text)
            column_of[field] = header
    errors: list[tuple[str, str]] = []
    code = raw.pop("credit_code", "")
    problem = credit_code_problem(code) if code else "credit code is missing"
    if problem:
        errors.append((column_of.get("credit_code", "credit_code"), problem))
    values: dict[str, Any] = {
        k: v for k, v in raw.items() if v != "" and not k.startswith(("contact_", "licence_"))
    }
    for flag in ("high_risk", "deregistered"):
        if flag in raw:
            try:
                values[flag] = _flag(column_of[flag], raw[flag])
            except ValueError as exc:
                errors.append((column_of[flag], str(exc)))
                values.pop(flag, None)
    if raw.get("contact_name"):
        values["contacts"] = [{"name": raw["contact_name"], "phone": raw.get("contact_phone", "")}]
    if raw.get("licence_kind") or raw.get("licence_number"):
        values["licences"] = [
            {
                "kind": raw.get("licence_kind", ""),
                "number": raw.get("licence_number", ""),
                "valid_from": raw.get("licence_valid_from") or None,
                "valid_to": raw.get("licence_valid_to") or None,
            }
        ]
    try:
        fields = EnterpriseFields.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            nested = {"contacts": "contact_name", "licences": "licence_number"}.get(field, field)
            column = column_of.get(nested, field)
            errors.append((column, str(err["msg"]).removeprefix("Value error, ")))
        return None, errors
    if errors:
        return None, errors
    return fields.model_dump(mode="json") | {"credit_code": code}, []
