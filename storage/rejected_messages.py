"""Refused messages (table `rejected_messages`): stored by the ingest, listed for the duty room."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from storage.errors import amapped_errors

INSERT_REJECTED = """
INSERT INTO rejected_messages (received_at, topic, enterprise_id, code, reason, ref, payload,
                               payload_size)
VALUES (%(received_at)s, %(topic)s, %(ent)s, %(code)s, %(reason)s, %(ref)s, %(payload)s, %(size)s)
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


async def insert_rejected(conn: AsyncConnection[Any], rows: Sequence[RejectedRow]) -> None:
    """Store refused messages."""
    if not rows:
        return
    async with amapped_errors(), conn.cursor() as cur:
        await cur.executemany(
            INSERT_REJECTED,
            [
                {
                    "received_at": r.received_at,
                    "topic": _text(r.topic),
                    "ent": _text(r.enterprise_id),
                    "code": r.code,
                    "reason": _text(r.reason),
                    "ref": _text(r.ref),
                    "payload": r.payload,
                    "size": r.payload_size,
                }
                for r in rows
            ],
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
    async with amapped_errors():
        rows = await (
            await conn.execute(
                LIST_REJECTED,
                {"ent": enterprise_id, "code": code, "limit": limit, "offset": offset},
            )
        ).fetchall()
    total = int(rows[0][-1]) if rows else 0
    return [RejectedMessage(*r[:-1]) for r in rows], total
