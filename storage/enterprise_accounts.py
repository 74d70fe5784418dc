"""An enterprise's own accounts (manager and reporters), own password changes and the contacts
that notices go to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from storage.errors import amapped_errors
from storage.rows import fetch_one

LIST = """
SELECT id, username, display_name, active, enterprise_manager AS manager, created_at FROM users
 WHERE role = 'enterprise' AND enterprise_id = %(ent)s ORDER BY id
"""
GET = """
SELECT id, username, display_name, active, enterprise_manager AS manager, created_at FROM users
 WHERE id = %(id)s AND role = 'enterprise' AND enterprise_id = %(ent)s
"""
ADD_REPORTER = """
INSERT INTO users (username, display_name, password_hash, role, enterprise_id, enterprise_manager)
VALUES (%(username)s, %(display_name)s, %(hash)s, 'enterprise', %(ent)s, false)
RETURNING id, username, display_name, active, enterprise_manager AS manager, created_at
"""
DEACTIVATE_REPORTER = """
UPDATE users SET active = false
 WHERE id = %(id)s AND role = 'enterprise' AND enterprise_id = %(ent)s AND NOT enterprise_manager
RETURNING id, username, display_name, active, enterprise_manager AS manager, created_at
"""
PASSWORD_HASH = "SELECT password_hash FROM users WHERE id = %(id)s AND active"
SET_PASSWORD = "UPDATE users SET password_hash = %(hash)s WHERE id = %(id)s"
CONTACTS = "SELECT contacts FROM enterprises WHERE credit_code = %(ent)s"
SET_CONTACTS = """
UPDATE enterprises SET contacts = %(contacts)s WHERE credit_code = %(ent)s RETURNING contacts
"""


@dataclass(frozen=True, slots=True)
class EnterpriseAccount:
    """An account of an enterprise (never the password hash)."""

    id: int
    username: str
    display_name: str
    active: bool
    manager: bool
    created_at: datetime


async def list_accounts(conn: AsyncConnection[Any], *, ent: str) -> list[EnterpriseAccount]:
    """The enterprise's accounts, oldest first."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(EnterpriseAccount)) as cur:
        await cur.execute(LIST, {"ent": ent})
        return await cur.fetchall()


async def get(conn: AsyncConnection[Any], *, ent: str, user_id: int) -> EnterpriseAccount | None:
    """One account of the enterprise (None for another enterprise's)."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(EnterpriseAccount)) as cur:
        await cur.execute(GET, {"ent": ent, "id": user_id})
        return await cur.fetchone()


async def add_reporter(
    conn: AsyncConnection[Any], *, ent: str, username: str, display_name: str, password_hash: str
) -> EnterpriseAccount:
    """A reporter account of the enterprise (Conflict when the username is taken)."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(EnterpriseAccount)) as cur:
        await cur.execute(
            ADD_REPORTER,
            {"ent": ent, "username": username, "display_name": display_name, "hash": password_hash},
        )
        row = await cur.fetchone()
    assert row is not None
    return row


async def deactivate_reporter(
    conn: AsyncConnection[Any], *, ent: str, user_id: int
) -> EnterpriseAccount | None:
    """Deactivate a reporter of the enterprise (None: not one of its reporters)."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(EnterpriseAccount)) as cur:
        await cur.execute(DEACTIVATE_REPORTER, {"ent": ent, "id": user_id})
        return await cur.fetchone()


async def password_hash(conn: AsyncConnection[Any], *, user_id: int) -> str | None:
    """The active account's password hash."""
    row = await fetch_one(conn, statement=PASSWORD_HASH, params={"id": user_id})
    return str(row["password_hash"]) if row else None


async def set_password(conn: AsyncConnection[Any], *, user_id: int, password_hash: str) -> None:
    """Store a new password hash."""
    async with amapped_errors():
        await conn.execute(SET_PASSWORD, {"id": user_id, "hash": password_hash})


async def contacts(conn: AsyncConnection[Any], *, ent: str) -> list[dict[str, Any]] | None:
    """The enterprise's contacts (None when it is not in the directory)."""
    row = await fetch_one(conn, statement=CONTACTS, params={"ent": ent})
    return list(row["contacts"]) if row else None


async def set_contacts(
    conn: AsyncConnection[Any], *, ent: str, contacts: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Replace the enterprise's contacts."""
    params = {"ent": ent, "contacts": Jsonb(contacts)}
    row = await fetch_one(conn, statement=SET_CONTACTS, params=params)
    assert row is not None
    return list(row["contacts"])
