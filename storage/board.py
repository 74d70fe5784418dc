"""The status board snapshot: one compact JSON array per enterprise, built inside PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

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

# One row per enterprise: directory attributes, the status headline (whole-plant maintenance
# wins over the mode), derived presence (NULL: never reported), open alarms and their worst
# severity, open special operations by type, open maintenance, trial production.
BOARD = """
WITH wanted AS (
    SELECT credit_code FROM enterprises
     WHERE NOT deregistered
       AND (%(codes)s::text[] IS NULL OR credit_code = ANY(%(codes)s))
       AND (%(only)s::text IS NULL OR credit_code = %(only)s)
), ops AS (
    SELECT enterprise_id, json_object_agg(op_type, n) AS by_type
      FROM (SELECT enterprise_id, op_type, count(*) AS n FROM special_operations
             WHERE state <> 'ended' AND enterprise_id IN (SELECT credit_code FROM wanted)
             GROUP BY enterprise_id, op_type) AS t
     GROUP BY enterprise_id
), al AS (
    SELECT enterprise_id, count(*) AS n, max(severity_rank) AS worst FROM alarms
     WHERE state IN ('active', 'acknowledged') AND enterprise_id IN (SELECT credit_code FROM wanted)
     GROUP BY enterprise_id
), mj AS (
    SELECT enterprise_id, bool_or(scope = 'plant') AS whole FROM maintenance_jobs
     WHERE ended_at IS NULL AND enterprise_id IN (SELECT credit_code FROM wanted)
     GROUP BY enterprise_id
)
SELECT coalesce(json_agg(json_build_array(
           e.credit_code, e.name, e.county, e.sector, e.risk_colour, e.high_risk,
           CASE WHEN mj.whole THEN 'maintenance_whole' ELSE coalesce(s.mode, 'operating') END,
           CASE WHEN s.enterprise_id IS NULL THEN NULL
                ELSE s.presence_online AND s.last_activity_at >= %(online_since)s END,
           s.last_activity_at, coalesce(al.n, 0),
           CASE al.worst WHEN 4 THEN 'red' WHEN 3 THEN 'orange' WHEN 2 THEN 'yellow'
                         WHEN 1 THEN 'blue' END,
           coalesce(ops.by_type, '{}'::json), mj.enterprise_id IS NOT NULL,
           coalesce(s.mode = 'trial_production', false)
       ) ORDER BY e.credit_code), '[]'::json)::text AS board
  FROM wanted w
  JOIN enterprises e USING (credit_code)
  LEFT JOIN enterprise_status s ON s.enterprise_id = e.credit_code
  LEFT JOIN ops ON ops.enterprise_id = e.credit_code
  LEFT JOIN al ON al.enterprise_id = e.credit_code
  LEFT JOIN mj ON mj.enterprise_id = e.credit_code
"""


async def rows_json(
    conn: AsyncConnection[Any],
    *,
    online_since: datetime,
    codes: list[str] | None = None,
    only: str | None = None,
) -> str:
    """The snapshot rows as JSON text (an array of arrays in COLUMNS order); a site counts as
    online when it says so and was active since `online_since`."""
    params = {"codes": codes, "only": only, "online_since": online_since}
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        # Never a prepared statement: PostgreSQL's generic plan cannot see which of the optional
        # filters are set, estimates one row and nests loops over every table (5 s, not 50 ms).
        await cur.execute(BOARD, params, prepare=False)
        row = await cur.fetchone()
    return str(row["board"]) if row else "[]"
