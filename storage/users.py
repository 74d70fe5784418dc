"""Repository of user accounts."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

from domain.users import User
from storage.errors import amapped_errors

SELECT_BY_NAME = """
SELECT id, username, display_name, password_hash, role, enterprise_id, active
  FROM users WHERE username = %(username)s
"""
SELECT_BY_ID = """
SELECT id, username, display_name, password_hash, role, enterprise_id, active
  FROM users WHERE id = %(id)s
"""
UPSERT = """
INSERT INTO users (username, display_name, password_hash, role, enterprise_id)
VALUES (%(username)s, %(display_name)s, %(password_hash)s, %(role)s, %(enterprise_id)s)
ON CONFLICT (username) DO UPDATE
   SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role,
       enterprise_id = EXCLUDED.enterprise_id, display_name = EXCLUDED.display_name
RETURNING id
"""


async def get_by_username(conn: AsyncConnection[Any], *, username: str) -> User | None:
    """Return the user with that name, or None."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(User)) as cur:
        await cur.execute(SELECT_BY_NAME, {"username": username})
        return await cur.fetchone()


async def get_by_id(conn: AsyncConnection[Any], *, user_id: int) -> User | None:
    """Return the user with that id, or None."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(User)) as cur:
        await cur.execute(SELECT_BY_ID, {"id": user_id})
        return await cur.fetchone()


async def upsert(
    conn: AsyncConnection[Any],
    *,
    username: str,
    password_hash: str,
    role: str,
    display_name: str = "",
    enterprise_id: str | None = None,
) -> int:
    """Create or update a user by name; return its id."""
    async with amapped_errors():
        cur = await conn.execute(
            UPSERT,
            {
                "username": username,
                "display_name": display_name,
                "password_hash": password_hash,
                "role": role,
                "enterprise_id": enterprise_id,
            },
        )
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])
