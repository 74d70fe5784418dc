"""Refused messages (table `rejected_messages`): stored by the ingest, listed for the duty room."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from storage.errors import amapped_errors
from storage.paging import fetch_page

#: One statement for a batch's refusals (not one per row): a site sending many bad messages
#: costs the batch one round trip.
INSERT_REJECTED = """
INSERT INTO rejected_messages (received_at, topic, enterprise_id, code, reason, ref, payload,
                               payload_size)
SELECT * FROM unnest(%(received_at)s::timestamptz[], %(topic)s::text[], %(ent)s::text[],
                     %(code)s::text[], %(reason)s::text[], %(ref)s::text[], %(payload)s::bytea[],
                     %(size)s::int[])
"""
LIST_REJECTED = """
SELECT id, received_at, topic, enterprise_id, code, reason, ref, payload, payload_size,
       count(*) OVER () AS total
  FROM rejected_messages
 WHERE (%(ent)s::text IS NULL OR enterprise_id = %(ent)s)
   AND (%(code)s::text IS NULL OR code = %(code)s)
 ORDER BY id DESC
 LIMIT %(limit)s OFFSET %(offset)s
"""


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """One refused message to store."""

    received_at: datetime
    topic: str
    enterprise_id: str | None
    code: str
    reason: str
    ref: str | None
    payload: bytes
    payload_size: int


@dataclass(frozen=True, slots=True)
class RejectedMessage:
    """A stored refused message."""

    id: int
    received_at: datetime
    topic: str
    enterprise_id: str | None
    code: str
    reason: str
    ref: str | None
    payload: bytes
    payload_size: int


def _text(value: str | None) -> str | None:
    """PostgreSQL text cannot hold U+0000 (a refused topic or reason may): make it visible."""
    return value.replace("\x00", "\ufffd") if value is not None and "\x00" in value else value


async def insert_rejected(conn: AsyncConnection[Any], *, rows: Sequence[RejectedRow]) -> None:
    """Store refused messages."""
    if not rows:
        return
    async with amapped_errors():
        await conn.execute(
            INSERT_REJECTED,
            {
                "received_at": [r.received_at for r in rows],
                "topic": [_text(r.topic) for r in rows],
                "ent": [_text(r.enterprise_id) for r in rows],
                "code": [r.code for r in rows],
                "reason": [_text(r.reason) for r in rows],
                "ref": [_text(r.ref) for r in rows],
                "payload": [r.payload for r in rows],
                "size": [r.payload_size for r in rows],
            },
        )


async def list_rejected(
    conn: AsyncConnection[Any],
    *,
    enterprise_id: str | None,
    code: str | None,
    limit: int,
    offset: int,
) -> tuple[list[RejectedMessage], int]:
    """Refused messages, newest first, with the total count."""
    params = {"ent": enterprise_id, "code": code, "limit": limit, "offset": offset}
    return await fetch_page(conn, statement=LIST_REJECTED, params=params, row=RejectedMessage)
