"""The one way a use case records what it changed: its audit entry and its live changes, written
together in the use case's own transaction (so neither exists without the state change)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection

from domain.users import Principal
from storage import audit, live
from storage.live import Change

__all__ = [
    "SYSTEM",
    "Actor",
    "Audit",
    "Change",
    "announce",
    "record",
    "record_access",
    "site_actor",
]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a signed-in principal and the address it came from, an enterprise's site
    (authenticated by the broker with its own account, the credit code), or the system itself."""

    principal: Principal | None
    client_ip: str | None = None
    site: str | None = None

    @property
    def name(self) -> str:
        """The acting account as stamped on records: user name, site account or `system`."""
        if self.principal is not None:
            return self.principal.username
        return self.site or "system"


def site_actor(ent: str) -> Actor:
    """An enterprise's site acting over MQTT, as its broker account (the credit code)."""
    return Actor(principal=None, site=ent)


#: The system acting on its own (jobs, watchdogs, the ingest).
SYSTEM = Actor(principal=None)


@dataclass(frozen=True, slots=True)
class Audit:
    """What the audit log keeps of one action: Audit("restart.approve", "restart_request:3")."""

    action: str
    target: str
    before: Any = None
    after: Any = None


async def record(
    conn: AsyncConnection[Any],
    *,
    actor: Actor,
    audit_entry: Audit,
    changes: Sequence[Change],
) -> int:
    """Write one audited action and its live changes (at least one); returns the audit id.

    Runs in the caller's transaction, so the state change, its audit entry and its live changes
    commit or roll back together; on an autocommit connection the two writes get their own."""
    if not changes:
        raise ValueError(f"{audit_entry.action}: a state change must announce a live change")
    if not conn.autocommit:
        return await _write(conn, actor, audit_entry, changes)
    async with conn.transaction():
        return await _write(conn, actor, audit_entry, changes)


async def record_access(conn: AsyncConnection[Any], *, actor: Actor, audit_entry: Audit) -> int:
    """Write the audit entry of an audited read (a recording downloaded as evidence): it changes
    no state, so there is no live change. Returns the audit id."""
    return await _audit(conn, actor, audit_entry)


async def announce(conn: AsyncConnection[Any], *, changes: Sequence[Change]) -> None:
    """Live changes of the system's own work whose stored rows are the record (the MQTT ingest's
    batches, watchdogs, delivery receipts): no audit entry, many changes in one statement."""
    await live.publish_changes(conn, changes=changes)


async def _write(
    conn: AsyncConnection[Any], actor: Actor, entry: Audit, changes: Sequence[Change]
) -> int:
    audit_id = await _audit(conn, actor, entry)
    await live.publish_changes(conn, changes=changes)
    return audit_id


async def _audit(conn: AsyncConnection[Any], actor: Actor, entry: Audit) -> int:
    return await audit.record(
        conn,
        principal=actor.principal,
        action=entry.action,
        target=entry.target,
        before=entry.before,
        after=entry.after,
        client_ip=actor.client_ip,
        site=actor.site,
    )
