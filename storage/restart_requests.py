"""Restart requests (复产申请, table `restart_requests`): stored from events, listed, decided."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

from domain.monitoring import EnterpriseId
from storage.errors import amapped_errors
from storage.json_rows import rows_json
from storage.paging import fetch_page
from storage.rows import fetch_all

INSERT_REQUEST = """
INSERT INTO restart_requests (enterprise_id, event_id, requested_at, planned_at, self_check,
                              failed_items)
SELECT ent, event_id, ts, planned_at, self_check, failed
  FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
       ent text, event_id text, ts timestamptz, planned_at timestamptz, self_check jsonb,
       failed integer)
ON CONFLICT (enterprise_id, event_id) DO NOTHING
RETURNING id, enterprise_id, event_id
"""
SUPERSEDE_ALL = """
UPDATE restart_requests q SET state = 'superseded'
  FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(ent text, keep text)
 WHERE q.enterprise_id = r.ent AND q.state = 'pending' AND q.event_id IS DISTINCT FROM r.keep
"""
GET_REQUEST = """
SELECT
id, enterprise_id, event_id, requested_at, planned_at, self_check, failed_items, state,
decided_by, decided_at, decision_reason, notice_id
 FROM restart_requests WHERE id = %(id)s FOR UPDATE
"""
LIST_REQUESTS = """
SELECT
id, enterprise_id, event_id, requested_at, planned_at, self_check, failed_items, state,
decided_by, decided_at, decision_reason, notice_id
, count(*) OVER () AS total FROM restart_requests
 WHERE (%(state)s::text IS NULL OR state = %(state)s)
   AND (%(ent)s::text IS NULL OR enterprise_id = %(ent)s)
 ORDER BY (state = 'pending') DESC, requested_at DESC
 LIMIT %(limit)s OFFSET %(offset)s
"""
DECIDE_REQUEST = """
UPDATE restart_requests SET state = %(state)s, decided_by = %(by)s, decided_at = %(at)s,
       decision_reason = %(reason)s, notice_id = %(notice_id)s
 WHERE id = %(id)s
"""


@dataclass(frozen=True, slots=True)
class RestartRequest:
    """A stored restart request (复产申请) and its decision."""

    id: int
    enterprise_id: str
    event_id: str
    requested_at: datetime
    planned_at: datetime
    self_check: Any
    failed_items: int
    state: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    notice_id: int | None


async def insert_requests(
    conn: AsyncConnection[Any], *, requests: Sequence[dict[str, Any]]
) -> list[int | None]:
    """Store restart requests (keys ent, event_id, ts, planned_at, self_check, failed); the new
    ids in order (None for one already stored). Supersede older ones with supersede_pending."""
    if not requests:
        return []
    rows = await fetch_all(conn, statement=INSERT_REQUEST, params={"rows": rows_json(requests)})
    ids = {(str(r["enterprise_id"]), str(r["event_id"])): int(r["id"]) for r in rows}
    return [ids.get((r["ent"], r["event_id"])) for r in requests]


async def supersede_pending(
    conn: AsyncConnection[Any], *, keep: dict[EnterpriseId, str | None]
) -> None:
    """Void pending restart requests of these enterprises except the one each still has."""
    if not keep:
        return
    rows = [{"ent": e, "keep": k} for e, k in sorted(keep.items())]
    async with amapped_errors():
        await conn.execute(SUPERSEDE_ALL, {"rows": rows_json(rows)})


async def get_request(conn: AsyncConnection[Any], *, request_id: int) -> RestartRequest | None:
    """One restart request, locked."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(RestartRequest)) as cur:
        await cur.execute(GET_REQUEST, {"id": request_id})
        return await cur.fetchone()


async def list_requests(
    conn: AsyncConnection[Any], *, state: str | None, ent: str | None, limit: int, offset: int
) -> tuple[list[RestartRequest], int]:
    """Restart requests, pending first, with the total count."""
    params = {"state": state, "ent": ent, "limit": limit, "offset": offset}
    return await fetch_page(conn, statement=LIST_REQUESTS, params=params, row=RestartRequest)


async def decide_request(
    conn: AsyncConnection[Any],
    *,
    request_id: int,
    state: str,
    by: str,
    at: datetime,
    reason: str,
    notice_id: int | None,
) -> None:
    """Record the decision on a restart request."""
    async with amapped_errors():
        await conn.execute(
            DECIDE_REQUEST,
            {
                "id": request_id,
                "state": state,
                "by": by,
                "at": at,
                "reason": reason,
                "notice_id": notice_id,
            },
        )
