"""Enterprises' licences and the renewal reminders already sent for them (read side)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

from storage.errors import amapped_errors

HELD = """
SELECT credit_code AS enterprise_id, name, licences FROM enterprises
 WHERE NOT deregistered AND jsonb_array_length(licences) > 0
   AND (%(ent)s::text IS NULL OR credit_code = %(ent)s)
 ORDER BY credit_code
"""
SENT = """
SELECT subject, due, stage, created_at FROM reminders
 WHERE kind = 'licence_expiry' AND (%(ent)s::text IS NULL OR enterprise_id = %(ent)s)
 ORDER BY id
"""


@dataclass(frozen=True, slots=True)
class Held:
    """An enterprise and the licences stored on it."""

    enterprise_id: str
    name: str
    licences: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Sent:
    """A licence reminder already sent."""

    subject: str
    due: date
    stage: str
    created_at: datetime


async def held(conn: AsyncConnection[Any], *, ent: str | None = None) -> list[Held]:
    """Every registered enterprise with licences (or one enterprise's)."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(Held)) as cur:
        await cur.execute(HELD, {"ent": ent})
        return await cur.fetchall()


async def sent(conn: AsyncConnection[Any], *, ent: str | None = None) -> list[Sent]:
    """Licence reminders sent so far, oldest first."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(Sent)) as cur:
        await cur.execute(SENT, {"ent": ent})
        return await cur.fetchall()
