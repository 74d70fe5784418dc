"""Loading the demo directory and demo accounts."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from demo.data import DemoEnterprise
from storage.errors import amapped_errors

UPSERT_ENTERPRISE = """
INSERT INTO enterprises (credit_code, name, county, address, sector, risk_colour, credit_class,
                         major_hazard_level, high_risk)
VALUES (%(credit_code)s, %(name)s, %(county)s, %(address)s, %(sector)s, %(risk_colour)s,
        %(credit_class)s, %(major_hazard_level)s, %(high_risk)s)
ON CONFLICT (credit_code) DO NOTHING
"""


async def seed_enterprises(conn: AsyncConnection[Any], *, rows: list[DemoEnterprise]) -> int:
    """Insert demo enterprises that are not there yet; return how many rows were offered."""
    async with amapped_errors(), conn.cursor() as cur:
        await cur.executemany(
            UPSERT_ENTERPRISE,
            [
                {
                    "credit_code": r.credit_code,
                    "name": r.name,
                    "county": r.county,
                    "address": r.address,
                    "sector": r.sector,
                    "risk_colour": r.risk_colour,
                    "credit_class": r.credit_class,
                    "major_hazard_level": r.major_hazard_level,
                    "high_risk": r.high_risk,
                }
                for r in rows
            ],
        )
    return len(rows)
