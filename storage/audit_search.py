"""Searching the audit log for administrators (filters, pagination, total count)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

from storage.audit import AuditEntry
from storage.errors import amapped_errors
from storage.rows import fetch_one

SEARCH = """
SELECT id, ts, user_id, username, role, action, target, before, after, client_ip
  FROM audit_log
 WHERE (%(target)s::text IS NULL OR target = %(target)s OR target LIKE %(target_prefix)s)
   AND (%(username)s::text IS NULL OR username = %(username)s)
   AND (%(role)s::text IS NULL OR role = %(role)s)
   AND (%(action)s::text IS NULL OR action = %(action)s OR action LIKE %(action_prefix)s)
   AND (%(since)s::timestamptz IS NULL OR ts >= %(since)s)
   AND (%(until)s::timestamptz IS NULL OR ts < %(until)s)
 ORDER BY id DESC
 LIMIT %(limit)s OFFSET %(offset)s
"""
COUNT = """
SELECT count(*) AS total FROM audit_log
 WHERE (%(target)s::text IS NULL OR target = %(target)s OR target LIKE %(target_prefix)s)
   AND (%(username)s::text IS NULL OR username = %(username)s)
   AND (%(role)s::text IS NULL OR role = %(role)s)
   AND (%(action)s::text IS NULL OR action = %(action)s OR action LIKE %(action_prefix)s)
   AND (%(since)s::timestamptz IS NULL OR ts >= %(since)s)
   AND (%(until)s::timestamptz IS NULL OR ts < %(until)s)
"""


def _prefix(value: str | None, sep: str) -> str | None:
    """`user` matches `user:12` / `user.create`: a prefix ending at the separator."""
    if not value:
        return None
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + sep + "%"


async def search(
    conn: AsyncConnection[Any],
    *,
    target: str | None = None,
    username: str | None = None,
    role: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Entries newest first and the total count; `target`/`action` also match as prefixes."""
    params = {
        "target": target,
        "target_prefix": _prefix(target, ":"),
        "username": username,
        "role": role,
        "action": action,
        "action_prefix": _prefix(action, "."),
        "since": since,
        "until": until,
        "limit": limit,
        "offset": offset,
    }
    async with amapped_errors(), conn.cursor(row_factory=class_row(AuditEntry)) as cur:
        await cur.execute(SEARCH, params)
        rows = await cur.fetchall()
    total = await fetch_one(conn, statement=COUNT, params=params)
    return rows, int(total["total"]) if total else 0
