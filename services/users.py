"""Accounts: create, change (role, binding, password, active), deactivate — never delete."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from domain.credit_code import validate_credit_code
from domain.errors import NotFound, RuleViolation, ValidationFailed
from domain.i18n import msg
from domain.users import Principal, Role
from services.changes import Actor, Audit, record
from storage import directory, enterprises
from storage import users as accounts
from storage.users import Account

#: Account changes are staff-only news: no enterprise sees them on the live feed.
KIND = "user"


def snapshot(account: Account) -> dict[str, Any]:
    """What the audit log keeps of an account (never the password hash)."""
    return {
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role,
        "enterprise_id": account.enterprise_id,
        "active": account.active,
    }


async def load(conn: AsyncConnection[Any], *, user_id: int) -> Account:
    """One account; NotFound when absent."""
    account = await accounts.get(conn, user_id=user_id)
    if account is None:
        raise NotFound(msg("user.not_found", user_id=user_id))
    return account


async def _binding(conn: AsyncConnection[Any], role: Role, enterprise_id: str | None) -> str | None:
    """Check the role's enterprise binding; return the credit code to store (or None)."""
    if role is not Role.ENTERPRISE:
        if enterprise_id is not None:
            raise ValidationFailed(msg("user.enterprise_only_for_enterprise"))
        return None
    if not enterprise_id:
        raise ValidationFailed(msg("user.enterprise_required"))
    code = validate_credit_code(enterprise_id)
    if not await enterprises.exists(conn, credit_code=code):
        raise ValidationFailed(
            msg("enterprise.not_in_directory", code=code), details={"code": code}
        )
    return code


async def _guard_last_admin(
    conn: AsyncConnection[Any],
    admin: Principal,
    before: Account,
    after_role: Role,
    after_active: bool,
) -> None:
    """Refuse changes that would lock every administrator out."""
    losing_admin = (
        before.role == Role.ADMIN
        and before.active
        and (after_role is not Role.ADMIN or not after_active)
    )
    if not losing_admin:
        return
    if before.id == admin.user_id:
        raise RuleViolation(msg("user.self_demote"))
    if await accounts.active_admins(conn, lock=True) <= 1:
        raise RuleViolation(msg("user.last_admin"))


async def _record(
    conn: AsyncConnection[Any],
    actor: Actor,
    action: str,
    account: Account,
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> None:
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(action, f"user:{account.id}", before, after),
        changes=[(KIND, None, {"id": account.id, "action": action, "active": account.active})],
    )


async def create(
    conn: AsyncConnection[Any],
    *,
    username: str,
    display_name: str,
    password_hash: str,
    role: Role,
    enterprise_id: str | None,
    actor: Actor,
) -> Account:
    """Create an account (Conflict when the username is taken)."""
    code = await _binding(conn, role, enterprise_id)
    account = await accounts.create(
        conn,
        username=username,
        display_name=display_name,
        password_hash=password_hash,
        role=role.value,
        enterprise_id=code,
    )
    await _record(conn, actor, "user.create", account, None, snapshot(account))
    return account


async def update(
    conn: AsyncConnection[Any],
    *,
    user_id: int,
    display_name: str | None,
    role: Role | None,
    enterprise_id: str | None,
    enterprise_id_sent: bool,
    active: bool | None,
    password_hash: str | None,
    actor: Actor,
) -> Account:
    """Change what was sent; leaving the enterprise role drops the binding."""
    assert actor.principal is not None, "accounts are changed by an administrator"
    before = await load(conn, user_id=user_id)
    new_role = role if role is not None else Role(before.role)
    binding = enterprise_id if enterprise_id_sent else before.enterprise_id
    if new_role is not Role.ENTERPRISE and not enterprise_id_sent:
        binding = None
    code = await _binding(conn, new_role, binding)
    new_active = active if active is not None else before.active
    await _guard_last_admin(conn, actor.principal, before, new_role, new_active)
    after = await accounts.update(
        conn,
        user_id=user_id,
        display_name=display_name if display_name is not None else before.display_name,
        role=new_role.value,
        enterprise_id=code,
        active=new_active,
        password_hash=password_hash,
    )
    assert after is not None
    changed = snapshot(after) | ({"password_changed": True} if password_hash else {})
    await _record(conn, actor, "user.update", after, snapshot(before), changed)
    return after


async def deactivate(conn: AsyncConnection[Any], *, user_id: int, actor: Actor) -> Account:
    """Deactivate an account (accounts are never deleted: the audit log refers to them)."""
    assert actor.principal is not None, "accounts are changed by an administrator"
    before = await load(conn, user_id=user_id)
    await _guard_last_admin(conn, actor.principal, before, Role(before.role), False)
    after = await accounts.update(
        conn,
        user_id=user_id,
        display_name=before.display_name,
        role=before.role,
        enterprise_id=before.enterprise_id,
        active=False,
    )
    assert after is not None
    await _record(conn, actor, "user.deactivate", after, snapshot(before), snapshot(after))
    return after


async def link_officer(
    conn: AsyncConnection[Any], *, user_id: int, officer_id: str | None, actor: Actor
) -> None:
    """Link an inspector account to its officer record (None unlinks): it decides which
    inspections the account may act on."""
    account = await load(conn, user_id=user_id)
    if officer_id is not None:
        if account.role != Role.INSPECTOR.value:
            raise ValidationFailed(msg("user.officer_only_for_inspector"))
        await directory.get_officer(conn, officer_id=officer_id)  # NotFound when unknown
    before = await accounts.officer_of(conn, user_id=user_id)
    await accounts.set_officer(conn, user_id=user_id, officer_id=officer_id)
    await _record(
        conn,
        actor,
        "user.officer_link",
        account,
        {"officer_id": before},
        {"officer_id": officer_id},
    )
