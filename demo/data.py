"""A deterministic, county-sized demo directory in zh-CN for the bureau's region.

The counties, zones and sectors come from the region (config/region.yaml: 昌吉回族自治州 by
default); credit codes carry the county's division code, a GB 11714-style organisation code and
a valid check character (GB 32100-2015).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from config.policy_region import default_region
from domain.credit_code import check_character, org_code
from domain.region import County, Region, Sector

#: Brand words for generated names (invented; no real company is meant).
BRANDS = (
    "天润",
    "恒泰",
    "金鼎",
    "瑞丰",
    "宏达",
    "天成",
    "嘉禾",
    "永兴",
    "博峰",
    "北庭",
    "雪莲",
    "胡杨",
    "金泉",
    "五彩",
    "丝路",
    "西域",
    "庭州",
    "安泰",
    "鑫源",
    "德隆",
)
SUFFIXES = ("有限公司", "有限责任公司", "股份有限公司", "科技有限公司")
RISK = (("red", 0.08), ("orange", 0.17), ("yellow", 0.35), ("blue", 0.40))
CREDIT = (("A", 0.35), ("B", 0.45), ("C", 0.15), ("D", 0.05))
#: Sectors whose sites hold hazardous materials or run high-risk processes (high_risk, 重大危险源).
HIGH_RISK_SECTORS = frozenset(
    {"coal_chemical", "hazchem_production", "hazchem_trade", "hazchem_storage", "non_coal_mine"}
)
#: How much more likely a zone's own sectors are (准东: coal chemicals and power).
ZONE_BIAS = 4.0


@dataclass(frozen=True, slots=True)
class DemoEnterprise:
    """One generated enterprise row."""

    credit_code: str
    name: str
    county: str
    address: str
    sector: str
    risk_colour: str
    credit_class: str
    major_hazard_level: int | None
    high_risk: bool


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def demo_counties(region: Region | None = None) -> tuple[tuple[str, str], ...]:
    """(division code, name) of each county and zone of the region."""
    return tuple((c.division, c.name) for c in (region or default_region()).counties)


def _sector(rng: random.Random, county: County, sectors: tuple[Sector, ...]) -> Sector:
    def weight(s: Sector) -> float:
        if not county.sectors:
            return s.demo_share
        return s.demo_share * (ZONE_BIAS if s.code in county.sectors else 1 / ZONE_BIAS)

    return rng.choices(sectors, weights=[weight(s) for s in sectors])[0]


def demo_credit_code(division: str, serial: int) -> str:
    """A plausible code: 9 (工商) 1 (企业), the division, an organisation code, the check char."""
    body = f"91{division}{org_code(serial)}"
    return body + check_character(body)


def demo_enterprises(
    count: int = 120, *, seed: int = 2026, region: Region | None = None
) -> list[DemoEnterprise]:
    """Return `count` enterprises spread over the region; the same seed gives the same rows."""
    region = region or default_region()
    rng = random.Random(seed)
    names: set[str] = set()
    out = []
    for i in range(count):
        county = region.counties[i % len(region.counties)]
        sector = _sector(rng, county, region.sectors)
        trade = rng.choice(sector.trades)
        place = rng.choice((county.short, region.prefecture_short, "新疆"))
        name = f"{place}{rng.choice(BRANDS)}{trade}{rng.choice(SUFFIXES)}"
        while name in names:
            name = f"{place}{rng.choice(BRANDS)}{rng.choice(BRANDS)}{trade}{rng.choice(SUFFIXES)}"
        names.add(name)
        risk = _pick(rng, RISK)
        hazardous = sector.code in HIGH_RISK_SECTORS
        hazard = rng.choice((1, 2, 3, 4)) if hazardous and rng.random() < 0.4 else None
        street = rng.choice(county.streets)
        parcel = street.endswith("园区")
        number = f"{rng.randint(1, 60)}号地块" if parcel else f"{rng.randint(1, 399)}号"
        out.append(
            DemoEnterprise(
                credit_code=demo_credit_code(county.division, 400_000_000 + i * 7919),
                name=name,
                county=county.name,
                address=f"{region.province}{region.prefecture}{county.name}{street}{number}",
                sector=sector.code,
                risk_colour=risk,
                credit_class=_pick(rng, CREDIT),
                major_hazard_level=hazard,
                high_risk=hazardous and (risk in {"red", "orange"} or hazard is not None),
            )
        )
    return out
