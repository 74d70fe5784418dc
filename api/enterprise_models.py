"""HTTP models of the enterprise directory and the mapping of imported table rows onto them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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
    warnings: list[RowError] = Field(default_factory=list, description="e.g. unknown columns")
