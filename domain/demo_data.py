"""A deterministic, county-sized demo directory in zh-CN with valid credit codes."""

from __future__ import annotations

import random
from dataclasses import dataclass

from domain.credit_code import make_credit_code

COUNTIES = (
    ("330102", "上城区"),
    ("330105", "拱墅区"),
    ("330106", "西湖区"),
    ("330108", "滨江区"),
    ("330109", "萧山区"),
    ("330110", "余杭区"),
)
SECTORS = (
    ("hazchem_production", "化工", 0.25),
    ("hazchem_trade", "危化品经营", 0.15),
    ("hazchem_storage", "仓储", 0.10),
    ("non_coal_mine", "矿业", 0.05),
    ("fireworks", "烟花爆竹", 0.05),
    ("industry_trade", "制造", 0.40),
)
PREFIXES = (
    "华东",
    "临江",
    "新安",
    "钱塘",
    "恒泰",
    "金鼎",
    "瑞丰",
    "宏达",
    "天成",
    "嘉禾",
    "永兴",
    "中联",
    "东方",
    "润和",
    "远航",
    "明辉",
    "卓越",
    "安泰",
    "鑫源",
    "德隆",
)
SUFFIXES = ("有限公司", "股份有限公司", "科技有限公司", "实业有限公司")
ROADS = ("江南大道", "文一路", "滨康路", "建设一路", "市心北路", "良渚路", "之江路", "莫干山路")
RISK = (("red", 0.08), ("orange", 0.17), ("yellow", 0.35), ("blue", 0.40))
CREDIT = (("A", 0.35), ("B", 0.45), ("C", 0.15), ("D", 0.05))


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


def demo_enterprises(count: int = 120, *, seed: int = 2026) -> list[DemoEnterprise]:
    """Return `count` enterprises; the same seed always gives the same directory."""
    rng = random.Random(seed)
    names: set[str] = set()
    out = []
    for i in range(count):
        division, county = COUNTIES[i % len(COUNTIES)]
        sector, trade, _ = rng.choices(SECTORS, weights=[s[2] for s in SECTORS])[0]
        while True:
            name = f"杭州{rng.choice(PREFIXES)}{trade}{rng.choice(SUFFIXES)}"
            if name not in names:
                break
            name = f"杭州{rng.choice(PREFIXES)}{rng.choice(PREFIXES)}{trade}{rng.choice(SUFFIXES)}"
            if name not in names:
                break
        names.add(name)
        risk = _pick(rng, RISK)
        hazchem = sector.startswith("hazchem") or sector in {"non_coal_mine", "fireworks"}
        hazard = rng.choice((1, 2, 3, 4)) if hazchem and rng.random() < 0.4 else None
        out.append(
            DemoEnterprise(
                credit_code=make_credit_code(division, 100000000 + i * 7919),
                name=name,
                county=county,
                address=f"杭州市{county}{rng.choice(ROADS)}{rng.randint(1, 999)}号",
                sector=sector,
                risk_colour=risk,
                credit_class=_pick(rng, CREDIT),
                major_hazard_level=hazard,
                high_risk=hazchem and (risk in {"red", "orange"} or hazard is not None),
            )
        )
    return out
