"""The two directories and the item list (两库一单): enterprises, officers, inspection items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import NewType

EnterpriseCode = NewType("EnterpriseCode", str)
OfficerId = NewType("OfficerId", str)
ItemId = NewType("ItemId", str)

#: 红/橙/黄/蓝 — major, considerable, general, low risk.
RISK_COLOURS = ("red", "orange", "yellow", "blue")
#: Credit classes, A best.
CREDIT_CLASSES = ("A", "B", "C", "D")
#: Operating states the directory uses; a bureau's shutdown policy names which count as shut down.
OPERATING_STATES = ("operating", "shutdown", "trial", "suspended")


class InspectionMethod(StrEnum):
    """How an item is checked: on site, by documents, or online (现场/书面/网络)."""

    ONSITE = "onsite"
    DOCUMENT = "document"
    ONLINE = "online"


@dataclass(frozen=True, slots=True)
class Licence:
    """A licence held by an enterprise (type, number, validity)."""

    kind: str
    number: str
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    """A person to contact at an enterprise."""

    name: str
    phone: str = ""
    role: str = ""


@dataclass(frozen=True, slots=True)
class Enterprise:
    """An inspection target; `credit_code` is a verified 18-character unified social credit code."""

    credit_code: EnterpriseCode
    name: str
    county: str
    sector: str
    risk_colour: str
    credit_class: str
    address: str = ""
    standardisation_grade: str = ""
    major_hazard_level: str = ""
    high_risk: bool = False
    operating_state: str = "operating"
    deregistered: bool = False
    licences: tuple[Licence, ...] = ()
    contacts: tuple[Contact, ...] = ()


@dataclass(frozen=True, slots=True)
class Conflict:
    """An officer's declared conflict with an enterprise: they must recuse from inspecting it."""

    officer_id: OfficerId
    credit_code: EnterpriseCode
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Officer:
    """An enforcement officer, or an expert when `auxiliary` (never counted as one, never leads)."""

    officer_id: OfficerId
    name: str
    department: str
    county: str
    certificate_no: str = ""
    certificate_valid_from: date | None = None
    certificate_valid_to: date | None = None
    active: bool = True
    auxiliary: bool = False
    conflicts: tuple[Conflict, ...] = ()


@dataclass(frozen=True, slots=True)
class InspectionItem:
    """One entry of the inspection-item list (抽查事项清单)."""

    item_id: ItemId
    item: str
    sub_item: str
    legal_basis: str
    sectors: tuple[str, ...]
    method: InspectionMethod
    #: The checklist-catalogue entries (清单式执法) a finding on this item cites; empty: none yet.
    checklist_codes: tuple[str, ...] = ()

    def applies_to(self, sector: str) -> bool:
        """Whether this item applies to an enterprise of `sector` ("*" matches every sector)."""
        return "*" in self.sectors or sector in self.sectors


@dataclass(frozen=True, slots=True)
class InspectionHistory:
    """What the yearly cap and the cooldown need to know about an enterprise's past inspections."""

    credit_code: EnterpriseCode
    inspections_this_year: int = 0
    last_inspected_on: date | None = None
