"""The telemetry tag registry of an enterprise: put (create or replace) and delete one tag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg import AsyncConnection

from domain.errors import NotFound
from domain.i18n import msg
from services.changes import Actor, Audit, record
from storage import telemetry_tags
from storage.telemetry_tags import Tag

#: The JSON the audit log keeps of a stored tag (the API's shape).
Snapshot = Callable[[Tag], dict[str, Any]]


async def put(
    conn: AsyncConnection[Any],
    *,
    ent: str,
    tag: str,
    fields: dict[str, Any],
    snapshot: Snapshot,
    actor: Actor,
) -> Tag:
    """Create or replace a tag's registry entry."""
    before = await telemetry_tags.get_tag(conn, ent=ent, tag=tag)
    await telemetry_tags.upsert_tags(conn, rows=[{"enterprise_id": ent, "tag": tag, **fields}])
    after = await telemetry_tags.get_tag(conn, ent=ent, tag=tag)
    assert after is not None
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            "tag.put",
            f"tag:{ent}/{tag}",
            before=snapshot(before) if before else None,
            after=fields,
        ),
        changes=[("tag", ent, {"tag": tag, "action": "put"})],
    )
    return after


async def delete(
    conn: AsyncConnection[Any], *, ent: str, tag: str, snapshot: Snapshot, actor: Actor
) -> None:
    """Remove a tag from the registry (its readings stay)."""
    before = await telemetry_tags.get_tag(conn, ent=ent, tag=tag)
    if before is None:
        raise NotFound(msg("tag.not_registered", tag=tag, ent=ent))
    await telemetry_tags.delete_tag(conn, ent=ent, tag=tag)
    await record(
        conn,
        actor=actor,
        audit_entry=Audit("tag.delete", f"tag:{ent}/{tag}", before=snapshot(before)),
        changes=[("tag", ent, {"tag": tag, "action": "delete"})],
    )
