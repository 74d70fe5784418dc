"""Demo data of remote monitoring: a tag registry for every demo enterprise.

The four tags are what a hazardous-chemicals site typically streams. The combustible-gas limits
follow GB/T 50493-2019 (可燃气体和有毒气体检测报警设计标准): first-level alarm at most 25 % LEL,
second-level at most 50 % LEL (20 and 50 here); the other limits are plausible process values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg_pool import AsyncConnectionPool

from config.settings import Settings
from demo.data import demo_enterprises
from domain.region import Region
from storage import telemetry_tags


@dataclass(frozen=True, slots=True)
class DemoTag:
    """One demo tag: its registry entry and the normal value the simulator wanders around."""

    tag: str
    kind: str
    unit: str
    description: str
    normal: float
    spread: float
    hh: float | None
    h: float | None
    l: float | None  # noqa: E741 - the industry's name for the low limit
    ll: float | None
    deadband: float
    delay_s: float


DEMO_TAGS = (
    DemoTag("TT101", "temperature", "°C", "R101 反应釜温度", 62, 3, 90, 80, None, None, 1, 10),
    DemoTag("PT101", "pressure", "MPa", "R101 反应釜压力", 1.2, 0.05, 1.8, 1.6, 0.5, 0.3, 0.02, 5),
    DemoTag("LT101", "level", "m", "V101 储罐液位", 5.0, 0.3, 9.2, 8.5, 1.0, 0.5, 0.1, 10),
    DemoTag("AT101", "gas", "%LEL", "罐区可燃气体", 1.0, 0.8, 50, 20, None, None, 1, 2),
)
STALE_AFTER_S = 300


def tag_rows(code: str) -> list[dict[str, Any]]:
    """Registry rows of one enterprise."""
    return [
        {
            "enterprise_id": code,
            "tag": t.tag,
            "kind": t.kind,
            "unit": t.unit,
            "description": t.description,
            "hh": t.hh,
            "h": t.h,
            "l": t.l,
            "ll": t.ll,
            "deadband": t.deadband,
            "delay_s": t.delay_s,
            "stale_after_s": STALE_AFTER_S,
            "enabled": True,
        }
        for t in DEMO_TAGS
    ]


async def seed_demo(
    pool: AsyncConnectionPool, settings: Settings, region: Region | None = None
) -> None:
    """Register the demo tags of every demo enterprise (tags already there are left alone)."""
    del settings
    rows = [row for ent in demo_enterprises(region=region) for row in tag_rows(ent.credit_code)]
    async with pool.connection() as conn:
        await telemetry_tags.insert_missing(conn, rows=rows)
