"""The append-only audit log: every state-changing action, written in the action's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from domain.users import Principal
from storage.errors import amapped_errors
from storage.rows import fetch_one

INSERT = """
INSERT INTO audit_log (user_id, username, role, action, target, before, after, client_ip)
VALUES (%(user_id)s, %(username)s, %(role)s, %(action)s, %(target)s, %(before)s, %(after)s,
        %(client_ip)s)
RETURNING id
"""
QUERY = """
SELECT id, ts, user_id, username, role, action, target, before, after, client_ip
  FROM audit_log
 WHERE (%(target)s::text IS NULL OR target = %(target)s)
   AND (%(username)s::text IS NULL OR username = %(username)s)
   AND (%(action)s::text IS NULL OR action = %(action)s)
   AND (%(since)s::timestamptz IS NULL OR ts >= %(since)s)
 ORDER BY id DESC
 LIMIT %(limit)s OFFSET %(offset)s
"""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited action."""

    id: int
    ts: datetime
    user_id: int | None
    username: str
    role: str
    action: str
    target: str
    before: Any
    after: Any
    client_ip: str | None


async def record(
    conn: AsyncConnection[Any],
    *,
    principal: Principal | None,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
    client_ip: str | None = None,
    site: str | None = None,
) -> int:
    """Append an entry; `principal=None` records the system itself as the actor, or with `site`
    an enterprise's site (its broker account, the credit code; role `site`)."""
    params = {
        "user_id": principal.user_id if principal else None,
        "username": principal.username if principal else (site or "system"),
        "role": principal.role.value if principal else ("site" if site else "system"),
        "action": action,
        "target": target,
        "before": Jsonb(before) if before is not None else None,
        "after": Jsonb(after) if after is not None else None,
        "client_ip": client_ip,
    }
    row = await fetch_one(conn, statement=INSERT, params=params)
    assert row is not None
    return int(row["id"])


async def query(
    conn: AsyncConnection[Any],
    *,
    target: str | None = None,
    username: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEntry]:
    """Entries newest first, filtered."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(AuditEntry)) as cur:
        await cur.execute(
            QUERY,
            {
                "target": target,
                "username": username,
                "action": action,
                "since": since,
                "limit": limit,
                "offset": offset,
            },
        )
        return await cur.fetchall()
