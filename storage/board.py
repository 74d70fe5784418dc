"""The status board snapshot: one compact JSON array per enterprise, built inside PostgreSQL."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from storage.errors import amapped_errors

#: The order of the values in each row of the snapshot.
COLUMNS = (
    "credit_code",
    "name",
    "county",
    "sector",
    "risk_colour",
    "high_risk",
    "state",
    "online",
    "last_seen",
    "alarms",
    "alarm_severity",
    "special_ops",
    "maintenance",
    "trial",
)

# Directory-only rows; the monitoring tables are joined in by BOARD_WITH_STATUS when present.
BOARD = """
SELECT coalesce(json_agg(json_build_array(
           e.credit_code, e.name, e.county, e.sector, e.risk_colour, e.high_risk,
           e.operating_state, NULL::boolean, NULL::timestamptz, 0, NULL::text, '{}'::json,
           false, e.operating_state = 'trial') ORDER BY e.credit_code), '[]'::json)::text
  FROM enterprises e
 WHERE NOT e.deregistered
   AND (%(codes)s::text[] IS NULL OR e.credit_code = ANY(%(codes)s))
   AND (%(only)s::text IS NULL OR e.credit_code = %(only)s)
"""


async def rows_json(
    conn: AsyncConnection[Any], *, codes: list[str] | None = None, only: str | None = None
) -> str:
    """The snapshot rows as JSON text (an array of arrays in COLUMNS order)."""
    async with amapped_errors():
        row = await (await conn.execute(BOARD, {"codes": codes, "only": only})).fetchone()
    return str(row[0]) if row else "[]"
