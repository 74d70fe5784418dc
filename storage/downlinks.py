"""Guidance and notices to sites, with their delivery state (pending → sent → acknowledged when
an ack is required; pending → delivered → received when not: `delivered` only means published)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row, dict_row
from psycopg.types.json import Jsonb

from storage.errors import amapped_errors
from storage.paging import fetch_page

CREATE = """
INSERT INTO downlinks (channel, enterprise_id, kind, text, extra, sender, requires_ack,
                       expires_at, next_attempt_at)
VALUES (%(channel)s, %(ent)s, %(kind)s, %(text)s, %(extra)s, %(sender)s, %(requires_ack)s,
        %(expires_at)s, %(now)s)
RETURNING
id, ref, channel, enterprise_id, kind, text, extra, sender, requires_ack, created_at, expires_at,
state, attempts, last_sent_at, next_attempt_at, acked_at, acked_by
"""
DUE = """
SELECT
id, ref, channel, enterprise_id, kind, text, extra, sender, requires_ack, created_at, expires_at,
state, attempts, last_sent_at, next_attempt_at, acked_at, acked_by
 FROM downlinks
 WHERE state IN ('pending', 'sent') AND next_attempt_at <= %(now)s AND expires_at > %(now)s
 ORDER BY next_attempt_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED
"""
MARK_SENT = """
UPDATE downlinks SET state = %(state)s, attempts = attempts + 1, last_sent_at = %(now)s,
       next_attempt_at = %(next)s
 WHERE id = %(id)s AND state IN ('pending', 'sent')
"""
EXPIRE = """
UPDATE downlinks SET state = 'expired'
 WHERE state IN ('pending', 'sent') AND expires_at <= %(now)s
RETURNING id, ref, enterprise_id, channel
"""
ACK = """
UPDATE downlinks SET
       state = CASE WHEN state IN ('acknowledged', 'received') THEN state
                    WHEN requires_ack THEN 'acknowledged' ELSE 'received' END,
       acked_at = CASE WHEN state IN ('acknowledged', 'received') THEN acked_at ELSE %(at)s END,
       acked_by = CASE WHEN state IN ('acknowledged', 'received') THEN acked_by ELSE %(by)s END
 WHERE ref = %(ref)s AND enterprise_id = %(ent)s
RETURNING
id, ref, channel, enterprise_id, kind, text, extra, sender, requires_ack, created_at, expires_at,
state, attempts, last_sent_at, next_attempt_at, acked_at, acked_by
, (acked_at = %(at)s) AS first_ack
"""
GET = """
SELECT
id, ref, channel, enterprise_id, kind, text, extra, sender, requires_ack, created_at, expires_at,
state, attempts, last_sent_at, next_attempt_at, acked_at, acked_by
 FROM downlinks WHERE id = %(id)s
"""
LIST = """
SELECT
id, ref, channel, enterprise_id, kind, text, extra, sender, requires_ack, created_at, expires_at,
state, attempts, last_sent_at, next_attempt_at, acked_at, acked_by
, count(*) OVER () AS total FROM downlinks
 WHERE (%(ent)s::text IS NULL OR enterprise_id = %(ent)s)
   AND (%(channel)s::text IS NULL OR channel = %(channel)s)
 ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s
"""


@dataclass(frozen=True, slots=True)
class Downlink:
    """A guidance or notice and its delivery state."""

    id: int
    ref: str
    channel: str
    enterprise_id: str
    kind: str | None
    text: str
    extra: dict[str, Any]
    sender: str
    requires_ack: bool
    created_at: datetime
    expires_at: datetime
    state: str
    attempts: int
    last_sent_at: datetime | None
    next_attempt_at: datetime
    acked_at: datetime | None
    acked_by: str | None

    def wire(self) -> dict[str, Any]:
        """The JSON published on …/guidance or …/notice (same on every retry)."""
        body: dict[str, Any] = {"id": self.ref, "ts": self.created_at.isoformat()}
        if self.channel == "guidance":
            body.update({"from": self.sender, "text": self.text})
        else:
            body.update(self.extra)
            body.update({"kind": self.kind, "text": self.text, "from": self.sender})
        body["requires_ack"] = self.requires_ack
        return body


@dataclass(frozen=True, slots=True)
class Expired:
    """A downlink given up on at its expiry."""

    id: int
    ref: str
    enterprise_id: str
    channel: str


async def create(
    conn: AsyncConnection[Any],
    *,
    channel: str,
    ent: str,
    text: str,
    sender: str,
    expires_at: datetime,
    now: datetime,
    kind: str | None = None,
    extra: dict[str, Any] | None = None,
    requires_ack: bool = True,
) -> Downlink:
    """Queue a guidance or notice; the monitor publishes it within a second (the use case
    announces it: services.guidance / services.restarts)."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(Downlink)) as cur:
        await cur.execute(
            CREATE,
            {
                "channel": channel,
                "ent": ent,
                "kind": kind,
                "text": text,
                "extra": Jsonb(extra or {}),
                "sender": sender,
                "requires_ack": requires_ack,
                "expires_at": expires_at,
                "now": now,
            },
        )
        row = await cur.fetchone()
    assert row is not None
    return row


async def due(conn: AsyncConnection[Any], *, now: datetime, limit: int = 100) -> list[Downlink]:
    """Downlinks to (re)publish now, locked (other monitors skip them)."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(Downlink)) as cur:
        await cur.execute(DUE, {"now": now, "limit": limit})
        return await cur.fetchall()


async def mark_sent(
    conn: AsyncConnection[Any], *, downlink: Downlink, now: datetime, next_attempt: datetime
) -> str:
    """Record a publication: 'delivered' when no ack is wanted, else 'sent' and retry later;
    returns the new state."""
    state = "sent" if downlink.requires_ack else "delivered"
    async with amapped_errors():
        await conn.execute(
            MARK_SENT, {"id": downlink.id, "state": state, "now": now, "next": next_attempt}
        )
    return state


async def expire(conn: AsyncConnection[Any], *, now: datetime) -> list[Expired]:
    """Give up on unacknowledged downlinks past their expiry."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(Expired)) as cur:
        await cur.execute(EXPIRE, {"now": now})
        return await cur.fetchall()


async def acknowledge(
    conn: AsyncConnection[Any], *, ent: str, ref: str, at: datetime, by: str | None
) -> tuple[Downlink, bool] | None:
    """Mark a downlink acknowledged by its site (idempotent): the downlink and whether this was
    its first acknowledgement; None when the ref is unknown."""
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(ACK, {"ref": ref, "ent": ent, "at": at, "by": by})
        row = await cur.fetchone()
    if row is None:
        return None
    first = bool(row.pop("first_ack"))
    return Downlink(**row), first


async def get(conn: AsyncConnection[Any], *, downlink_id: int) -> Downlink | None:
    """One downlink."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(Downlink)) as cur:
        await cur.execute(GET, {"id": downlink_id})
        return await cur.fetchone()


async def list_downlinks(
    conn: AsyncConnection[Any],
    *,
    ent: str | None,
    channel: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Downlink], int]:
    """Downlinks, newest first, with the total count."""
    params = {"ent": ent, "channel": channel, "limit": limit, "offset": offset}
    return await fetch_page(conn, statement=LIST, params=params, row=Downlink)
