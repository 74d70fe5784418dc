"""Directory records as table rows (the same columns the importers accept), for export."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from domain.directory import Enterprise, EnterpriseCode, InspectionHistory, InspectionItem, Officer
from domain.imports import ENTERPRISE_COLUMNS, ITEM_COLUMNS, OFFICER_COLUMNS

Table = tuple[list[str], list[list[str]]]


def _d(value: date | None) -> str:
    return value.isoformat() if value else ""


def _yes(value: bool) -> str:
    return "是" if value else "否"


def enterprise_table(
    enterprises: Iterable[Enterprise],
    history: Mapping[EnterpriseCode, InspectionHistory] | None = None,
) -> Table:
    """Header and rows for an enterprise export; re-importing it gives the same records."""
    columns = [
        c
        for c in ENTERPRISE_COLUMNS
        if history is not None or c not in {"inspections_this_year", "last_inspected_on"}
    ]
    rows = []
    for e in enterprises:
        past = (history or {}).get(e.credit_code)
        values = {
            "credit_code": e.credit_code,
            "name": e.name,
            "county": e.county,
            "address": e.address,
            "sector": e.sector,
            "risk_colour": e.risk_colour,
            "credit_class": e.credit_class,
            "standardisation_grade": e.standardisation_grade,
            "major_hazard_level": e.major_hazard_level,
            "high_risk": _yes(e.high_risk),
            "operating_state": e.operating_state,
            "deregistered": _yes(e.deregistered),
            "licences": "; ".join(
                f"{lic.kind}|{lic.number}|{_d(lic.valid_from)}|{_d(lic.valid_to)}"
                for lic in e.licences
            ),
            "contacts": "; ".join(f"{c.name}|{c.phone}|{c.role}" for c in e.contacts),
            "inspections_this_year": str(past.inspections_this_year if past else 0),
            "last_inspected_on": _d(past.last_inspected_on) if past else "",
        }
        rows.append([values[c] for c in columns])
    return [ENTERPRISE_COLUMNS[c][0] for c in columns], rows


def officer_table(officers: Iterable[Officer]) -> Table:
    """Header and rows for an officer/expert export."""
    columns = [c for c in OFFICER_COLUMNS if c != "prior_load"]
    rows = []
    for o in officers:
        values = {
            "officer_id": o.officer_id,
            "name": o.name,
            "department": o.department,
            "county": o.county,
            "certificate_no": o.certificate_no,
            "certificate_valid_from": _d(o.certificate_valid_from),
            "certificate_valid_to": _d(o.certificate_valid_to),
            "active": _yes(o.active),
            "auxiliary": _yes(o.auxiliary),
            "conflicts": "; ".join(
                f"{c.credit_code}:{c.reason}" if c.reason else c.credit_code for c in o.conflicts
            ),
        }
        rows.append([values[c] for c in columns])
    return [OFFICER_COLUMNS[c][0] for c in columns], rows


def item_table(items: Iterable[InspectionItem]) -> Table:
    """Header and rows for an inspection-item export."""
    labels = {"onsite": "现场", "document": "书面", "online": "网络"}
    rows = [
        [
            i.item_id,
            i.item,
            i.sub_item,
            i.legal_basis,
            "; ".join(i.sectors),
            labels[i.method.value],
            "; ".join(i.checklist_codes),
        ]
        for i in items
    ]
    return [ITEM_COLUMNS[c][0] for c in ITEM_COLUMNS], rows
