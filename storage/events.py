"""Operation events (table `events`): the ingest's COPY and the history read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from storage.errors import amapped_errors
from storage.paging import fetch_page

COPY_EVENTS = (
    "COPY events (ts, enterprise_id, event_id, type, payload, received_at) "
    "FROM STDIN (FORMAT BINARY)"
)
EVENTS = """
SELECT ts, event_id, type, payload, received_at, count(*) OVER () AS total FROM events
 WHERE enterprise_id = %(ent)s
   AND (%(lo)s::timestamptz IS NULL OR ts >= %(lo)s)
   AND (%(hi)s::timestamptz IS NULL OR ts < %(hi)s)
   AND (%(type)s::text IS NULL OR type = %(type)s)
 ORDER BY ts DESC, event_id DESC
 LIMIT %(limit)s OFFSET %(offset)s
"""


@dataclass(frozen=True, slots=True)
class EventRow:
    """One operation event to store."""

    ts: datetime
    enterprise_id: str
    event_id: str
    type: str
    payload: str


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One stored operation event."""

    ts: datetime
    event_id: str
    type: str
    payload: dict[str, Any]
    received_at: datetime


def _raw_json(text: str) -> str:
    return text


async def copy_events(
    conn: AsyncConnection[Any], *, rows: Sequence[EventRow], received_at: datetime
) -> None:
    """COPY operation events (payload is the validated JSON text as received)."""
    if not rows:
        return
    async with amapped_errors(), conn.cursor() as cur, cur.copy(COPY_EVENTS) as copy:
        copy.set_types(["timestamptz", "text", "text", "text", "jsonb", "timestamptz"])
        for r in rows:
            await copy.write_row(
                (
                    r.ts,
                    r.enterprise_id,
                    r.event_id,
                    r.type,
                    Jsonb(r.payload, dumps=_raw_json),
                    received_at,
                )
            )


async def list_events(
    conn: AsyncConnection[Any],
    *,
    ent: str,
    lo: datetime | None,
    hi: datetime | None,
    type_: str | None,
    limit: int,
    offset: int,
) -> tuple[list[StoredEvent], int]:
    """Events of one enterprise, newest first, with the total count."""
    params = {"ent": ent, "lo": lo, "hi": hi, "type": type_, "limit": limit, "offset": offset}
    return await fetch_page(conn, statement=EVENTS, params=params, row=StoredEvent)
