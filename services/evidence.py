"""The generic evidence-file store: accept an upload (size, sniffed type, SHA-256), file it
under a subject, audit it; and hand a file back to whoever may see its enterprise.

The caller's use case decides who may file evidence under its subject (the inspection's team,
the enterprise on its own rectification, …) and then calls `store`; `read` authorises by the
file's enterprise, so an id guessed from another enterprise is refused."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from domain.errors import Forbidden, ValidationFailed
from domain.evidence import DEFAULT_LIMITS, SUBJECT_KIND, EvidenceLimits, accept
from domain.i18n import msg
from domain.users import Principal
from services.changes import Actor, Audit, record
from storage import evidence_files
from storage.evidence_files import EvidenceRow


async def file(
    conn: AsyncConnection[Any],
    *,
    enterprise_id: str,
    subject_kind: str,
    subject_id: str,
    filename: str,
    data: bytes,
    note: str = "",
    actor: Actor,
    limits: EvidenceLimits = DEFAULT_LIMITS,
) -> EvidenceRow:
    """Accept and store one file without auditing it: for a use case whose own audit entry
    names the file (one audited action per request)."""
    assert actor.principal is not None, "evidence is uploaded by a person"
    if not SUBJECT_KIND.match(subject_kind):
        raise ValueError(f"bad evidence subject kind {subject_kind!r}")
    if len(note) > limits.max_note_chars:
        raise ValidationFailed(
            msg("evidence.note_too_long", max=limits.max_note_chars), details={"note": "too long"}
        )
    accepted = accept(data, filename=filename, limits=limits)
    return await evidence_files.insert(
        conn,
        file=accepted,
        enterprise_id=enterprise_id,
        subject_kind=subject_kind,
        subject_id=subject_id,
        note=note.strip(),
        uploaded_by=actor.principal.username,
    )


def described(row: EvidenceRow) -> dict[str, Any]:
    """What an audit entry keeps of a file."""
    return {
        "evidence_id": row.id,
        "subject": f"{row.subject_kind}:{row.subject_id}",
        "filename": row.filename,
        "media_type": row.media_type,
        "size_bytes": row.size_bytes,
        "sha256": row.sha256,
    }


async def store(
    conn: AsyncConnection[Any],
    *,
    enterprise_id: str,
    subject_kind: str,
    subject_id: str,
    filename: str,
    data: bytes,
    note: str = "",
    actor: Actor,
    limits: EvidenceLimits = DEFAULT_LIMITS,
) -> EvidenceRow:
    """Accept and store one file under (subject_kind, subject_id), audited as evidence.upload."""
    row = await file(
        conn,
        enterprise_id=enterprise_id,
        subject_kind=subject_kind,
        subject_id=subject_id,
        filename=filename,
        data=data,
        note=note,
        actor=actor,
        limits=limits,
    )
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            action="evidence.upload", target=f"evidence:{row.id}", after=described(row)
        ),
        changes=[
            (
                "evidence",
                enterprise_id,
                {"id": row.id, "subject_kind": subject_kind, "subject_id": subject_id},
            )
        ],
    )
    return row


async def read(
    conn: AsyncConnection[Any], *, evidence_id: int, principal: Principal
) -> tuple[EvidenceRow, bytes]:
    """A file and its bytes, for staff or the file's own enterprise; Forbidden otherwise."""
    row = await evidence_files.get(conn, evidence_id=evidence_id)
    if not principal.may_see_enterprise(row.enterprise_id):
        raise Forbidden(msg("auth.own_enterprise_only"))
    return row, await evidence_files.content(conn, evidence_id=evidence_id)
