"""The evidence-file store: uploaded photos and documents with their SHA-256, size and type,
filed under a subject (an inspection, a finding, a rectification, a work permit …)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

from domain.errors import NotFound
from domain.evidence import EvidenceFile
from domain.i18n import msg
from storage.errors import amapped_errors
from storage.rows import fetch_one

INSERT = """
INSERT INTO evidence_files (enterprise_id, subject_kind, subject_id, filename, media_type,
                            size_bytes, sha256, content, note, uploaded_by)
VALUES (%(enterprise_id)s, %(subject_kind)s, %(subject_id)s, %(filename)s, %(media_type)s,
        %(size_bytes)s, %(sha256)s, %(content)s, %(note)s, %(uploaded_by)s)
RETURNING id, enterprise_id, subject_kind, subject_id, filename, media_type, size_bytes, sha256,
          note, uploaded_by, uploaded_at
"""
_COLUMNS = """
SELECT id, enterprise_id, subject_kind, subject_id, filename, media_type, size_bytes, sha256,
       note, uploaded_by, uploaded_at
  FROM evidence_files
"""
FOR_SUBJECT = (
    _COLUMNS
    + """
 WHERE subject_kind = %(subject_kind)s AND subject_id = ANY(%(subject_ids)s)
 ORDER BY id
"""
)
ONE = _COLUMNS + " WHERE id = %(id)s"
CONTENT = "SELECT content FROM evidence_files WHERE id = %(id)s"


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    """A stored evidence file without its bytes."""

    id: int
    enterprise_id: str
    subject_kind: str
    subject_id: str
    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    note: str
    uploaded_by: str
    uploaded_at: datetime


async def insert(
    conn: AsyncConnection[Any],
    *,
    file: EvidenceFile,
    enterprise_id: str,
    subject_kind: str,
    subject_id: str,
    note: str,
    uploaded_by: str,
) -> EvidenceRow:
    """Store an accepted file under its subject."""
    params = {
        "enterprise_id": enterprise_id,
        "subject_kind": subject_kind,
        "subject_id": subject_id,
        "filename": file.filename,
        "media_type": file.media_type,
        "size_bytes": file.size_bytes,
        "sha256": file.sha256,
        "content": file.content,
        "note": note,
        "uploaded_by": uploaded_by,
    }
    async with amapped_errors(), conn.cursor(row_factory=class_row(EvidenceRow)) as cur:
        await cur.execute(INSERT, params)
        row = await cur.fetchone()
    assert row is not None
    return row


async def for_subject(
    conn: AsyncConnection[Any], *, subject_kind: str, subject_ids: list[str]
) -> list[EvidenceRow]:
    """The files filed under any of the subjects, oldest first."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(EvidenceRow)) as cur:
        await cur.execute(FOR_SUBJECT, {"subject_kind": subject_kind, "subject_ids": subject_ids})
        return await cur.fetchall()


async def get(conn: AsyncConnection[Any], *, evidence_id: int) -> EvidenceRow:
    """One file's description; NotFound when absent."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(EvidenceRow)) as cur:
        await cur.execute(ONE, {"id": evidence_id})
        row = await cur.fetchone()
    if row is None:
        raise NotFound(msg("evidence.not_found", evidence_id=evidence_id))
    return row


async def content(conn: AsyncConnection[Any], *, evidence_id: int) -> bytes:
    """One file's bytes; NotFound when absent."""
    row = await fetch_one(conn, statement=CONTENT, params={"id": evidence_id})
    if row is None:
        raise NotFound(msg("evidence.not_found", evidence_id=evidence_id))
    return bytes(row["content"])
