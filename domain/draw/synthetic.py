"""Synthetic, seeded directories for demos, tests and the draw benchmark (no real data)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from domain.credit_code import make_credit_code
from domain.directory import (
    Conflict,
    Enterprise,
    EnterpriseCode,
    InspectionHistory,
    Officer,
    OfficerId,
)

SECTORS = ("危化品生产", "危化品经营", "危化品储存", "非煤矿山", "烟花爆竹", "工贸")
COLOUR_WEIGHTS = {"red": 5, "orange": 15, "yellow": 30, "blue": 50}
CLASS_WEIGHTS = {"A": 30, "B": 50, "C": 15, "D": 5}
DEPARTMENTS = ("应急管理局", "市场监管局")


def counties(count: int) -> list[str]:
    """`count` six-digit county division codes (Hangzhou-style 3301xx)."""
    return [f"33{(i // 90) + 1:02d}{(i % 90) + 1:02d}" for i in range(count)]


def make_enterprises(
    count: int, *, seed: int = 1, county_count: int = 20, today: date = date(2025, 3, 1)
) -> tuple[list[Enterprise], dict[EnterpriseCode, InspectionHistory]]:
    """`count` enterprises with valid credit codes, and their inspection history."""
    rng = random.Random(seed)
    places = counties(county_count)
    colours, cw = list(COLOUR_WEIGHTS), list(COLOUR_WEIGHTS.values())
    classes, kw = list(CLASS_WEIGHTS), list(CLASS_WEIGHTS.values())
    ents: list[Enterprise] = []
    history: dict[EnterpriseCode, InspectionHistory] = {}
    for i in range(count):
        county = places[i % county_count]
        code = EnterpriseCode(make_credit_code(county, i + 1))
        roll = rng.random()
        ents.append(
            Enterprise(
                credit_code=code,
                name=f"示例{rng.choice(SECTORS)}企业{i + 1}号有限公司",
                county=county,
                sector=rng.choice(SECTORS),
                risk_colour=rng.choices(colours, cw)[0],
                credit_class=rng.choices(classes, kw)[0],
                operating_state="shutdown" if roll < 0.03 else "operating",
                deregistered=0.03 <= roll < 0.04,
            )
        )
        inspections = rng.choices((0, 1, 2, 3), (70, 20, 8, 2))[0]
        last = today - timedelta(days=rng.randint(1, 365)) if inspections else None
        history[code] = InspectionHistory(code, inspections, last)
    return ents, history


def make_officers(
    per_department: int,
    enterprise_codes: list[EnterpriseCode],
    *,
    seed: int = 2,
    departments: tuple[str, ...] = DEPARTMENTS,
    experts: int = 0,
    county_count: int = 20,
    conflict_share: float = 0.05,
    valid_to: date = date(2027, 12, 31),
) -> list[Officer]:
    """Officers of each department plus experts; `conflict_share` of enterprises get a conflict."""
    rng = random.Random(seed)
    places = counties(county_count)
    total = per_department * len(departments) + experts
    conflicts: list[list[Conflict]] = [[] for _ in range(total)]
    for code in rng.sample(enterprise_codes, int(len(enterprise_codes) * conflict_share)):
        k = rng.randrange(total)
        conflicts[k].append(Conflict(OfficerId(f"O{k + 1:05d}"), code, "亲属任职"))
    officers: list[Officer] = []
    for k in range(total):
        oid = OfficerId(f"O{k + 1:05d}")
        expert = k >= per_department * len(departments)
        roll = rng.random()
        officers.append(
            Officer(
                officer_id=oid,
                name=f"执法人员{k + 1}" if not expert else f"专家{k + 1}",
                department=departments[k % len(departments)] if not expert else "专家库",
                county=rng.choice(places),
                certificate_no="" if expert else f"浙{k + 1:08d}",
                certificate_valid_from=None if expert else date(2023, 1, 1),
                certificate_valid_to=None
                if expert
                else (date(2025, 1, 31) if roll < 0.02 else valid_to),
                active=roll < 0.99 or roll < 0.02,
                auxiliary=expert,
                conflicts=tuple(conflicts[k]),
            )
        )
    return officers
