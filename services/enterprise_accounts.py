"""Enterprise self-service (企业端): the manager adds or deactivates reporters of its own
enterprise and keeps the contacts notices go to; every account changes its own password."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from domain.errors import Forbidden, NotFound, ValidationFailed
from domain.i18n import msg
from domain.users import Principal, Role
from services.changes import Actor, Audit, record
from storage import enterprise_accounts as store
from storage.enterprise_accounts import EnterpriseAccount

#: Account changes are staff-only news on the live feed (as services.users).
KIND = "user"


async def _manager(conn: AsyncConnection[Any], actor: Actor, ent: str) -> Principal:
    """The acting principal, if it is an active manager account of `ent`."""
    p = actor.principal
    if p is None or p.role is not Role.ENTERPRISE or p.enterprise_id != ent:
        raise Forbidden(msg("enterprise.manager_only"))
    me = await store.get(conn, ent=ent, user_id=p.user_id)
    if me is None or not me.active or not me.manager:
        raise Forbidden(msg("account.manager_only"))
    return p


def _snapshot(a: EnterpriseAccount) -> dict[str, Any]:
    return {
        "username": a.username,
        "display_name": a.display_name,
        "active": a.active,
        "manager": a.manager,
    }


async def add_reporter(
    conn: AsyncConnection[Any],
    *,
    ent: str,
    username: str,
    display_name: str,
    password_hash: str,
    actor: Actor,
) -> EnterpriseAccount:
    """A second (third, …) reporter of the manager's own enterprise."""
    await _manager(conn, actor, ent)
    account = await store.add_reporter(
        conn, ent=ent, username=username, display_name=display_name, password_hash=password_hash
    )
    await record(
        conn,
        actor=actor,
        audit_entry=Audit("enterprise.account.add", f"user:{account.id}", after=_snapshot(account)),
        changes=[(KIND, None, {"id": account.id, "action": "user.create", "active": True})],
    )
    return account


async def deactivate_reporter(
    conn: AsyncConnection[Any], *, ent: str, user_id: int, actor: Actor
) -> EnterpriseAccount:
    """Deactivate one of the enterprise's reporters (never a manager account)."""
    await _manager(conn, actor, ent)
    before = await store.get(conn, ent=ent, user_id=user_id)
    after = await store.deactivate_reporter(conn, ent=ent, user_id=user_id)
    if before is None or after is None:
        raise NotFound(msg("account.not_a_reporter"))
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            "enterprise.account.deactivate", f"user:{user_id}", _snapshot(before), _snapshot(after)
        ),
        changes=[(KIND, None, {"id": user_id, "action": "user.update", "active": False})],
    )
    return after


async def change_password(
    conn: AsyncConnection[Any],
    *,
    current_ok: bool,
    new_hash: str,
    actor: Actor,
) -> None:
    """The signed-in account's own password (the current one checked by the caller)."""
    p = actor.principal
    assert p is not None
    if not current_ok:
        raise ValidationFailed(msg("account.password_wrong"), details={"field": "current_password"})
    await store.set_password(conn, user_id=p.user_id, password_hash=new_hash)
    await record(
        conn,
        actor=actor,
        audit_entry=Audit("user.password", f"user:{p.user_id}", after={"password_changed": True}),
        changes=[(KIND, None, {"id": p.user_id, "action": "user.password"})],
    )


async def set_contacts(
    conn: AsyncConnection[Any], *, ent: str, contacts: list[dict[str, Any]], actor: Actor
) -> list[dict[str, Any]]:
    """Replace the contacts that notices go to (the manager of the enterprise)."""
    await _manager(conn, actor, ent)
    before = await store.contacts(conn, ent=ent)
    if before is None:
        raise NotFound(msg("enterprise.not_in_directory", code=ent))
    after = await store.set_contacts(conn, ent=ent, contacts=contacts)
    await record(
        conn,
        actor=actor,
        audit_entry=Audit("enterprise.contacts", f"enterprise:{ent}", before, after),
        changes=[("directory", ent, {"credit_code": ent, "contacts": after})],
    )
    return after
