"""Video sessions kept as evidence of a restart decision (复产复验)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

from storage.errors import amapped_errors

ATTACH = """
INSERT INTO restart_evidence (request_id, video_session_id, recording_path, recording_sha256,
                              recording_bytes, attached_by)
SELECT %(request_id)s, id, recording_path, recording_sha256, recording_bytes, %(by)s
  FROM video_sessions WHERE id = %(session_id)s
RETURNING video_session_id
"""
LIST = """
SELECT request_id, video_session_id, recording_path, recording_sha256, recording_bytes,
       attached_by, attached_at
  FROM restart_evidence WHERE request_id = %(request_id)s ORDER BY attached_at, video_session_id
"""


@dataclass(frozen=True, slots=True)
class Evidence:
    """One session attached to a decision, with its recording's identity."""

    request_id: int
    video_session_id: str
    recording_path: str | None
    recording_sha256: str | None
    recording_bytes: int | None
    attached_by: str
    attached_at: datetime


async def attach(conn: AsyncConnection[Any], *, request_id: int, session_id: str, by: str) -> None:
    """Attach a session (its recording as it is now) to a restart request's decision."""
    async with amapped_errors():
        await conn.execute(ATTACH, {"request_id": request_id, "session_id": session_id, "by": by})


async def for_request(conn: AsyncConnection[Any], *, request_id: int) -> list[Evidence]:
    """The evidence of one request's decision."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(Evidence)) as cur:
        await cur.execute(LIST, {"request_id": request_id})
        return await cur.fetchall()
