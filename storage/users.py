"""The `users` table: sign-in lookups, the account state a token is checked against, and user
administration (list, create, change; accounts are never deleted)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

from domain.users import User
from storage.errors import amapped_errors
from storage.rows import fetch_one

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
    params = {
        "username": username,
        "display_name": display_name,
        "password_hash": password_hash,
        "role": role,
        "enterprise_id": enterprise_id,
    }
    row = await fetch_one(conn, statement=UPSERT, params=params)
    assert row is not None
    return int(row["id"])


LIST = """
SELECT id, username, display_name, role, enterprise_id, active, created_at, updated_at
  FROM users
 WHERE (%(role)s::text IS NULL OR role = %(role)s)
   AND (%(active)s::boolean IS NULL OR active = %(active)s)
   AND (%(enterprise_id)s::text IS NULL OR enterprise_id = %(enterprise_id)s)
   AND (%(q)s::text IS NULL OR username ILIKE %(q)s OR display_name ILIKE %(q)s)
 ORDER BY id LIMIT %(limit)s OFFSET %(offset)s
"""
COUNT = """
SELECT count(*) AS total FROM users
 WHERE (%(role)s::text IS NULL OR role = %(role)s)
   AND (%(active)s::boolean IS NULL OR active = %(active)s)
   AND (%(enterprise_id)s::text IS NULL OR enterprise_id = %(enterprise_id)s)
   AND (%(q)s::text IS NULL OR username ILIKE %(q)s OR display_name ILIKE %(q)s)
"""
GET = """
SELECT id, username, display_name, role, enterprise_id, active, created_at, updated_at
  FROM users WHERE id = %(id)s
"""
INSERT = """
INSERT INTO users (username, display_name, password_hash, role, enterprise_id)
VALUES (%(username)s, %(display_name)s, %(password_hash)s, %(role)s, %(enterprise_id)s)
RETURNING id, username, display_name, role, enterprise_id, active, created_at, updated_at
"""
UPDATE = """
UPDATE users
   SET display_name = %(display_name)s, role = %(role)s, enterprise_id = %(enterprise_id)s,
       active = %(active)s, password_hash = coalesce(%(password_hash)s, password_hash)
 WHERE id = %(id)s
RETURNING id, username, display_name, role, enterprise_id, active, created_at, updated_at
"""
ACTIVE_ADMINS = "SELECT count(*) AS n FROM users WHERE role = 'admin' AND active"
LOCK_USERS = "LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"


@dataclass(frozen=True, slots=True)
class Account:
    """A user account as administrators see it (never the password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    enterprise_id: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


def _like(q: str | None) -> str | None:
    if not q:
        return None
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search(
    conn: AsyncConnection[Any],
    *,
    role: str | None = None,
    active: bool | None = None,
    enterprise_id: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Account], int]:
    """Accounts matching the filters (by id) and their total count."""
    params = {
        "role": role,
        "active": active,
        "enterprise_id": enterprise_id,
        "q": _like(q),
        "limit": limit,
        "offset": offset,
    }
    async with amapped_errors(), conn.cursor(row_factory=class_row(Account)) as cur:
        await cur.execute(LIST, params)
        rows = await cur.fetchall()
    total = await fetch_one(conn, statement=COUNT, params=params)
    return rows, int(total["total"]) if total else 0


async def get(conn: AsyncConnection[Any], *, user_id: int) -> Account | None:
    """The account with that id, or None."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(Account)) as cur:
        await cur.execute(GET, {"id": user_id})
        return await cur.fetchone()


async def create(
    conn: AsyncConnection[Any],
    *,
    username: str,
    display_name: str,
    password_hash: str,
    role: str,
    enterprise_id: str | None,
) -> Account:
    """Insert an account; Conflict when the username is taken."""
    params = {
        "username": username,
        "display_name": display_name,
        "password_hash": password_hash,
        "role": role,
        "enterprise_id": enterprise_id,
    }
    async with amapped_errors(), conn.cursor(row_factory=class_row(Account)) as cur:
        await cur.execute(INSERT, params)
        row = await cur.fetchone()
    assert row is not None
    return row


async def update(
    conn: AsyncConnection[Any],
    *,
    user_id: int,
    display_name: str,
    role: str,
    enterprise_id: str | None,
    active: bool,
    password_hash: str | None = None,
) -> Account | None:
    """Replace the changeable fields (password only when a hash is given)."""
    params = {
        "id": user_id,
        "display_name": display_name,
        "role": role,
        "enterprise_id": enterprise_id,
        "active": active,
        "password_hash": password_hash,
    }
    async with amapped_errors(), conn.cursor(row_factory=class_row(Account)) as cur:
        await cur.execute(UPDATE, params)
        return await cur.fetchone()


async def active_admins(conn: AsyncConnection[Any], *, lock: bool = False) -> int:
    """How many active admin accounts exist (`lock` serialises concurrent role changes)."""
    if lock:
        async with amapped_errors():
            await conn.execute(LOCK_USERS)
    row = await fetch_one(conn, statement=ACTIVE_ADMINS)
    return int(row["n"]) if row else 0


ACCOUNT_STATE = "SELECT active, role, enterprise_id FROM users WHERE id = %(id)s"


@dataclass(frozen=True, slots=True)
class AccountState:
    """What a token's principal is checked against."""

    active: bool
    role: str
    enterprise_id: str | None


async def account_state(conn: AsyncConnection[Any], *, user_id: int) -> AccountState | None:
    """The account's current state; None when it does not exist."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(AccountState)) as cur:
        await cur.execute(ACCOUNT_STATE, {"id": user_id})
        return await cur.fetchone()


OFFICER_OF = "SELECT officer_id FROM users WHERE id = %(id)s"
SET_OFFICER = "UPDATE users SET officer_id = %(officer_id)s WHERE id = %(id)s"


async def officer_of(conn: AsyncConnection[Any], *, user_id: int) -> str | None:
    """The officer record an (inspector) account is linked to, if any."""
    row = await fetch_one(conn, statement=OFFICER_OF, params={"id": user_id})
    return None if row is None else row["officer_id"]


async def set_officer(conn: AsyncConnection[Any], *, user_id: int, officer_id: str | None) -> None:
    """Link an account to an officer record (None unlinks)."""
    async with amapped_errors():
        await conn.execute(SET_OFFICER, {"id": user_id, "officer_id": officer_id})
