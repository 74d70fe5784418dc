"""The directory: enterprises (create, change) and officers/experts (create or replace)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg import AsyncConnection

from domain.directory import Officer
from domain.errors import ValidationFailed
from domain.i18n import msg
from services.changes import Actor, Audit, record
from storage import directory, enterprises
from storage.enterprises import EnterpriseRecord

#: The JSON an audit entry and a live change keep of an enterprise (the API's public shape).
Snapshot = Callable[[EnterpriseRecord], dict[str, Any]]
#: Fields an update may set to null ("unset" is not null).
NULLABLE = frozenset({"standardisation_grade", "major_hazard_level"})


async def create_enterprise(
    conn: AsyncConnection[Any], *, values: dict[str, Any], snapshot: Snapshot, actor: Actor
) -> EnterpriseRecord:
    """Add an enterprise with an already validated credit code (Conflict when it is known)."""
    created = await enterprises.insert(conn, values=values)
    after = snapshot(created)
    await record(
        conn,
        actor=actor,
        audit_entry=Audit("enterprise.create", f"enterprise:{created.credit_code}", after=after),
        changes=[("directory", created.credit_code, after)],
    )
    return created


async def update_enterprise(
    conn: AsyncConnection[Any],
    *,
    before: EnterpriseRecord,
    changes: dict[str, Any],
    snapshot: Snapshot,
    actor: Actor,
) -> EnterpriseRecord:
    """Change the attributes sent (the credit code itself never changes)."""
    nulls = [k for k, v in changes.items() if v is None and k not in NULLABLE]
    if nulls:
        raise ValidationFailed(msg("enterprise.fields_required", nulls=", ".join(nulls)))
    current = snapshot(before)
    updated = await enterprises.update(conn, values=current | changes)
    assert updated is not None
    after = snapshot(updated)
    changed = {k for k in after if after[k] != current[k]}
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            "enterprise.update",
            f"enterprise:{before.credit_code}",
            before={k: current[k] for k in changed},
            after={k: after[k] for k in changed},
        ),
        changes=[("directory", before.credit_code, after)],
    )
    return updated


async def upsert_officer(
    conn: AsyncConnection[Any], *, officer: Officer, after: dict[str, Any], actor: Actor
) -> None:
    """Create or replace an officer or expert by id (`after` is what the audit keeps)."""
    created, _ = await directory.upsert_officers(conn, officers=[officer])
    action = "inspector.create" if created else "inspector.update"
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(action, f"inspector:{officer.officer_id}", after=after),
        changes=[("inspector", None, {"id": officer.officer_id, "action": action})],
    )
