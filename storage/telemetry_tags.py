"""The telemetry tag registry (limits, deadband, delay), alarm states and reading queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from psycopg import AsyncConnection
from psycopg.rows import class_row, scalar_row

from domain.telemetry import Level, TagLimits, TagState
from storage.errors import amapped_errors
from storage.locking import lock_pairs
from storage.rows import named_row

REGISTRY = """
SELECT enterprise_id, tag, hh, h, l, ll, deadband, delay_s, stale_after_s, range_min, range_max
  FROM telemetry_tags WHERE enabled
"""
REGISTRY_VERSION = "SELECT count(*) AS n, max(updated_at) AS changed_at FROM telemetry_tags"
LOCK_STATES = """
SELECT t.enterprise_id, t.tag, t.level, t.pending_level, t.pending_since
  FROM telemetry_tags t
  JOIN unnest(%(ents)b::text[], %(keys)b::text[]) AS u(enterprise_id, tag)
 USING (enterprise_id, tag)
 ORDER BY t.enterprise_id, t.tag FOR UPDATE OF t
"""
SAVE_STATE = """
UPDATE telemetry_tags SET level = %(level)s, pending_level = %(pending)s,
       pending_since = %(since)s
 WHERE enterprise_id = %(ent)s AND tag = %(tag)s
"""
LAST_VALUES = """
UPDATE telemetry_tags t SET last_value = u.value, last_ts = u.ts
  FROM unnest(%(ents)b::text[], %(tags)b::text[], %(values)b::float8[], %(ts)b::timestamptz[])
       AS u(enterprise_id, tag, value, ts)
 WHERE t.enterprise_id = u.enterprise_id AND t.tag = u.tag
   AND (t.last_ts IS NULL OR t.last_ts < u.ts)
"""
LIST = """
SELECT
enterprise_id, tag, kind, unit, description, hh, h, l, ll, deadband, delay_s, stale_after_s,
enabled, level, last_value, last_ts, updated_at, range_min, range_max
 FROM telemetry_tags WHERE enterprise_id = %(ent)s ORDER BY tag
"""
GET = """
SELECT
enterprise_id, tag, kind, unit, description, hh, h, l, ll, deadband, delay_s, stale_after_s,
enabled, level, last_value, last_ts, updated_at, range_min, range_max
 FROM telemetry_tags WHERE enterprise_id = %(ent)s AND tag = %(tag)s
"""
UPSERT = """
INSERT INTO telemetry_tags (enterprise_id, tag, kind, unit, description, hh, h, l, ll, deadband,
                            delay_s, stale_after_s, enabled, range_min, range_max)
VALUES (%(enterprise_id)s, %(tag)s, %(kind)s, %(unit)s, %(description)s, %(hh)s, %(h)s, %(l)s,
        %(ll)s, %(deadband)s, %(delay_s)s, %(stale_after_s)s, %(enabled)s, %(range_min)s,
        %(range_max)s)
ON CONFLICT (enterprise_id, tag) DO UPDATE SET kind = EXCLUDED.kind, unit = EXCLUDED.unit,
       description = EXCLUDED.description, hh = EXCLUDED.hh, h = EXCLUDED.h, l = EXCLUDED.l,
       ll = EXCLUDED.ll, deadband = EXCLUDED.deadband, delay_s = EXCLUDED.delay_s,
       stale_after_s = EXCLUDED.stale_after_s, enabled = EXCLUDED.enabled,
       range_min = EXCLUDED.range_min, range_max = EXCLUDED.range_max, updated_at = now(),
       registered_at = CASE WHEN NOT telemetry_tags.enabled AND EXCLUDED.enabled THEN now()
                            ELSE telemetry_tags.registered_at END
RETURNING (xmax = 0) AS created
"""
INSERT_MISSING = """
INSERT INTO telemetry_tags (enterprise_id, tag, kind, unit, description, hh, h, l, ll, deadband,
                            delay_s, stale_after_s, enabled)
SELECT %(enterprise_id)s, %(tag)s, %(kind)s, %(unit)s, %(description)s, %(hh)s, %(h)s, %(l)s,
       %(ll)s, %(deadband)s, %(delay_s)s, %(stale_after_s)s, %(enabled)s
 WHERE EXISTS (SELECT 1 FROM enterprises WHERE credit_code = %(enterprise_id)s)
ON CONFLICT (enterprise_id, tag) DO NOTHING
"""
DELETE = "DELETE FROM telemetry_tags WHERE enterprise_id = %(ent)s AND tag = %(tag)s"
STALE_CANDIDATES = """
SELECT enterprise_id, tag, last_ts, coalesce(stale_after_s, %(default_s)s) AS stale_after_s
  FROM telemetry_tags
 WHERE enabled AND coalesce(last_ts, registered_at) < now() - make_interval(
       secs => coalesce(stale_after_s, %(default_s)s))
"""
RAW_SERIES = """
SELECT ts, value AS avg, value AS min, value AS max, 1::bigint AS n, quality FROM telemetry
 WHERE enterprise_id = %(ent)s AND tag = %(tag)s AND ts >= %(lo)s AND ts < %(hi)s
 ORDER BY ts LIMIT %(limit)s
"""
BINNED_SERIES = """
SELECT date_bin(%(width)s::interval, ts, '2000-01-01 00:00:00+00'::timestamptz) AS ts,
       avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS n, 'good' AS quality
  FROM telemetry
 WHERE enterprise_id = %(ent)s AND tag = %(tag)s AND ts >= %(lo)s AND ts < %(hi)s
   AND (value IS NULL OR value BETWEEN -1e12 AND 1e12)  -- as the rollup (migration 0121)
 GROUP BY 1 ORDER BY 1 LIMIT %(limit)s
"""
HOURLY_SERIES = """
SELECT bucket AS ts, avg_value AS avg, min_value AS min, max_value AS max, n,
       'good' AS quality
  FROM telemetry_hourly
 WHERE enterprise_id = %(ent)s AND tag = %(tag)s AND bucket >= %(lo)s AND bucket < %(hi)s
 ORDER BY bucket LIMIT %(limit)s
"""


@dataclass(frozen=True, slots=True)
class Tag:
    """A registry entry as stored."""

    enterprise_id: str
    tag: str
    kind: str
    unit: str
    description: str
    hh: float | None
    h: float | None
    l: float | None  # noqa: E741 - the industry's name for the low limit
    ll: float | None
    deadband: float
    delay_s: float
    stale_after_s: int | None
    enabled: bool
    level: str
    last_value: float | None
    last_ts: datetime | None
    updated_at: datetime
    range_min: float | None = None
    range_max: float | None = None


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One point of a series (a bucket: avg/min/max/count; raw: value three times, n=1)."""

    ts: datetime
    avg: float | None
    min: float | None
    max: float | None
    n: int
    quality: str


class _Limits(NamedTuple):
    enterprise_id: str
    tag: str
    hh: float | None
    h: float | None
    l: float | None  # noqa: E741 - the industry's name for the low limit
    ll: float | None
    deadband: float
    delay_s: float
    stale_after_s: int | None
    range_min: float | None
    range_max: float | None


class _Version(NamedTuple):
    n: int
    changed_at: datetime | None


class _State(NamedTuple):
    enterprise_id: str
    tag: str
    level: str
    pending_level: str | None
    pending_since: datetime | None


class _Stale(NamedTuple):
    enterprise_id: str
    tag: str
    last_ts: datetime | None
    stale_after_s: int


class _Point(NamedTuple):
    ts: datetime
    avg: float | None
    min: float | None
    max: float | None
    n: int
    quality: str


_STATE_ROW = named_row(_State)


async def registry(conn: AsyncConnection[Any]) -> dict[tuple[str, str], TagLimits]:
    """Every enabled tag's limits."""
    async with amapped_errors(), conn.cursor(row_factory=named_row(_Limits)) as cur:
        await cur.execute(REGISTRY)
        rows = await cur.fetchall()
    return {
        (r.enterprise_id, r.tag): TagLimits(
            r.hh,
            r.h,
            r.l,
            r.ll,
            float(r.deadband),
            float(r.delay_s),
            r.stale_after_s,
            range_min=r.range_min,
            range_max=r.range_max,
        )
        for r in rows
    }


async def registry_version(conn: AsyncConnection[Any]) -> tuple[int, datetime | None]:
    """A cheap fingerprint of the registry (count, newest change) to know when to reload."""
    async with amapped_errors(), conn.cursor(row_factory=named_row(_Version)) as cur:
        await cur.execute(REGISTRY_VERSION)
        row = await cur.fetchone()
    assert row is not None
    return int(row.n), row.changed_at


async def lock_states(
    conn: AsyncConnection[Any], *, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], TagState]:
    """Alarm states of these tags, locked."""
    rows = await lock_pairs(conn, statement=LOCK_STATES, keys=keys, row=_STATE_ROW)
    return {
        (r.enterprise_id, r.tag): TagState(
            Level(r.level), Level(r.pending_level) if r.pending_level else None, r.pending_since
        )
        for r in rows
    }


async def save_states(
    conn: AsyncConnection[Any], *, states: Sequence[tuple[str, str, TagState]]
) -> None:
    """Persist changed alarm states."""
    if not states:
        return
    async with amapped_errors(), conn.cursor() as cur:
        await cur.executemany(
            SAVE_STATE,
            [
                {
                    "ent": e,
                    "tag": t,
                    "level": s.level.value,
                    "pending": s.pending.value if s.pending else None,
                    "since": s.pending_since,
                }
                for e, t, s in states
            ],
        )


async def save_last_values(
    conn: AsyncConnection[Any], *, last: dict[tuple[str, str], tuple[float | None, datetime]]
) -> None:
    """Remember each registered tag's newest reading (for staleness and the status page)."""
    if not last:
        return
    keys = sorted(last)
    async with amapped_errors():
        await conn.execute(
            LAST_VALUES,
            {
                "ents": [k[0] for k in keys],
                "tags": [k[1] for k in keys],
                "values": [last[k][0] for k in keys],
                "ts": [last[k][1] for k in keys],
            },
        )


async def list_tags(conn: AsyncConnection[Any], *, ent: str) -> list[Tag]:
    """The registry of one enterprise."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(Tag)) as cur:
        await cur.execute(LIST, {"ent": ent})
        return await cur.fetchall()


async def get_tag(conn: AsyncConnection[Any], *, ent: str, tag: str) -> Tag | None:
    """One registry entry."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(Tag)) as cur:
        await cur.execute(GET, {"ent": ent, "tag": tag})
        return await cur.fetchone()


async def upsert_tags(conn: AsyncConnection[Any], *, rows: Sequence[dict[str, Any]]) -> int:
    """Create or update entries (a missing measuring range means none); return how many were
    created."""
    created = 0
    async with amapped_errors(), conn.cursor(row_factory=scalar_row) as cur:
        for row in rows:
            await cur.execute(UPSERT, {"range_min": None, "range_max": None, **row})
            created += int(bool(await cur.fetchone()))
    return created


async def insert_missing(conn: AsyncConnection[Any], *, rows: Sequence[dict[str, Any]]) -> None:
    """Register tags not registered yet, for enterprises in the directory (others are skipped;
    existing entries are left alone)."""
    if rows:
        async with amapped_errors(), conn.cursor() as cur:
            await cur.executemany(INSERT_MISSING, rows)


async def delete_tag(conn: AsyncConnection[Any], *, ent: str, tag: str) -> bool:
    """Remove an entry; False when there was none."""
    async with amapped_errors():
        cur = await conn.execute(DELETE, {"ent": ent, "tag": tag})
    return cur.rowcount > 0


async def stale_tags(
    conn: AsyncConnection[Any], *, default_stale_s: int
) -> list[tuple[str, str, datetime | None, int]]:
    """Enabled tags that have not reported within their stale time."""
    async with amapped_errors(), conn.cursor(row_factory=named_row(_Stale)) as cur:
        await cur.execute(STALE_CANDIDATES, {"default_s": default_stale_s})
        rows = await cur.fetchall()
    return [(str(r.enterprise_id), str(r.tag), r.last_ts, int(r.stale_after_s)) for r in rows]


async def series(
    conn: AsyncConnection[Any],
    *,
    ent: str,
    tag: str,
    lo: datetime,
    hi: datetime,
    bucket: str,
    limit: int,
) -> list[SeriesPoint]:
    """Readings of one tag: raw, binned on the raw table, or from the hourly rollup ('1h')."""
    params: dict[str, Any] = {"ent": ent, "tag": tag, "lo": lo, "hi": hi, "limit": limit}
    if bucket == "raw":
        query = RAW_SERIES
    elif bucket == "1h":
        query = HOURLY_SERIES
    else:
        query = BINNED_SERIES
        params["width"] = {"1m": "1 minute", "5m": "5 minutes", "15m": "15 minutes"}[bucket]
    async with amapped_errors(), conn.cursor(row_factory=named_row(_Point)) as cur:
        await cur.execute(query, params)
        rows = await cur.fetchall()
    return [SeriesPoint(r.ts, r.avg, r.min, r.max, int(r.n), str(r.quality)) for r in rows]
