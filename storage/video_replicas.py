"""Which API replica owns a video session (the address recorded in the session row)."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from storage.errors import amapped_errors
from storage.rows import fetch_one

SET_OWNER = "UPDATE video_sessions SET owner_url = %(url)s WHERE id = %(id)s"
OWNER_OF = "SELECT owner_url FROM video_sessions WHERE id = %(id)s"


async def set_owner(conn: AsyncConnection[Any], *, session_id: str, url: str) -> None:
    """Record the replica that owns a session."""
    async with amapped_errors():
        await conn.execute(SET_OWNER, {"id": session_id, "url": url})


async def owner_of(conn: AsyncConnection[Any], *, session_id: str) -> str | None:
    """The address of the replica that owns a session (None: unknown session or no owner)."""
    row = await fetch_one(conn, statement=OWNER_OF, params={"id": session_id})
    return str(row["owner_url"]) if row and row["owner_url"] else None
