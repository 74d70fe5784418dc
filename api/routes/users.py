"""User management for administrators: list, create, change role, reset password, deactivate."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api.common import IdPath, Page, PagingDep, client_ip
from api.deps import AdminOnly, ConnDep, account_check
from api.errors import ERROR_RESPONSES
from api.security import hash_password
from domain.credit_code import validate_credit_code
from domain.errors import NotFound, RuleViolation, ValidationFailed
from domain.users import Principal, Role
from storage import accounts, audit, enterprises
from storage.accounts import Account

router = APIRouter(prefix="/api/v1/users", tags=["users"], responses=ERROR_RESPONSES)

USERNAME = r"^[A-Za-z0-9_.@-]{2,64}$"
MIN_PASSWORD = 10


class UserOut(BaseModel):
    """An account as administrators see it."""

    id: int
    username: str
    display_name: str
    role: Role
    enterprise_id: str | None = None
    active: bool
    created_at: datetime
    updated_at: datetime


class UserCreate(BaseModel):
    """A new account; `enterprise_id` is required for, and only for, the enterprise role."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "username": "wang.duty",
                    "display_name": "王值班",
                    "password": "a-long-secret-1",
                    "role": "duty",
                }
            ]
        },
    )

    username: str = Field(pattern=USERNAME)
    display_name: str = Field(default="", max_length=100)
    password: str = Field(min_length=MIN_PASSWORD, max_length=200)
    role: Role
    enterprise_id: str | None = Field(default=None, description="credit code (enterprise role)")


class UserPatch(BaseModel):
    """Changes to an account; absent fields stay as they are."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"role": "supervisor"}, {"active": False}]}
    )

    display_name: str | None = Field(default=None, max_length=100)
    password: str | None = Field(default=None, min_length=MIN_PASSWORD, max_length=200)
    role: Role | None = None
    enterprise_id: str | None = None
    active: bool | None = None


def _out(account: Account) -> UserOut:
    return UserOut(
        id=account.id,
        username=account.username,
        display_name=account.display_name,
        role=Role(account.role),
        enterprise_id=account.enterprise_id,
        active=account.active,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


def _snapshot(account: Account) -> dict[str, Any]:
    return {
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role,
        "enterprise_id": account.enterprise_id,
        "active": account.active,
    }


async def _binding(conn: ConnDep, role: Role, enterprise_id: str | None) -> str | None:
    """Check the role's enterprise binding; return the credit code to store (or None)."""
    if role is not Role.ENTERPRISE:
        if enterprise_id is not None:
            raise ValidationFailed("only enterprise accounts are bound to an enterprise")
        return None
    if not enterprise_id:
        raise ValidationFailed("an enterprise account needs enterprise_id (a credit code)")
    code = validate_credit_code(enterprise_id)
    if not await enterprises.exists(conn, credit_code=code):
        raise ValidationFailed(f"enterprise {code} is not in the directory", details={"code": code})
    return code


async def _load(conn: ConnDep, user_id: int) -> Account:
    account = await accounts.get(conn, user_id=user_id)
    if account is None:
        raise NotFound(f"user {user_id} does not exist")
    return account


async def _guard_last_admin(
    conn: ConnDep, admin: Principal, before: Account, after_role: Role, after_active: bool
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
        raise RuleViolation("administrators may not demote or deactivate themselves")
    if await accounts.active_admins(conn, lock=True) <= 1:
        raise RuleViolation("this is the last active administrator")


@router.get("", response_model=Page[UserOut])
async def list_users(
    _: AdminOnly,
    conn: ConnDep,
    paging: PagingDep,
    role: Role | None = None,
    active: bool | None = None,
    enterprise_id: Annotated[str | None, Query(max_length=18)] = None,
    q: Annotated[str | None, Query(max_length=64, description="part of name")] = None,
) -> Page[UserOut]:
    """Accounts, filtered by role, state, enterprise or a part of the name."""
    rows, total = await accounts.search(
        conn,
        role=role.value if role else None,
        active=active,
        enterprise_id=enterprise_id,
        q=q,
        limit=paging.limit,
        offset=paging.offset,
    )
    return Page[UserOut](
        items=[_out(r) for r in rows], total=total, limit=paging.limit, offset=paging.offset
    )


@router.post("", response_model=UserOut, status_code=201)
async def create_user(
    body: UserCreate, admin: AdminOnly, conn: ConnDep, request: Request
) -> UserOut:
    """Create an account (409 when the username is taken)."""
    code = await _binding(conn, body.role, body.enterprise_id)
    account = await accounts.create(
        conn,
        username=body.username,
        display_name=body.display_name,
        password_hash=hash_password(body.password),
        role=body.role.value,
        enterprise_id=code,
    )
    await audit.record(
        conn,
        principal=admin,
        action="user.create",
        target=f"user:{account.id}",
        after=_snapshot(account),
        client_ip=client_ip(request),
    )
    return _out(account)


@router.get("/{user_id}", response_model=UserOut)
async def get_user(user_id: IdPath, _: AdminOnly, conn: ConnDep) -> UserOut:
    """One account."""
    return _out(await _load(conn, user_id))


@router.patch("/{user_id}", response_model=UserOut)
async def update_user(
    user_id: IdPath, body: UserPatch, admin: AdminOnly, conn: ConnDep, request: Request
) -> UserOut:
    """Change display name, role (and its enterprise binding), password or active flag."""
    before = await _load(conn, user_id)
    sent = body.model_fields_set
    role = body.role if body.role is not None else Role(before.role)
    binding = body.enterprise_id if "enterprise_id" in sent else before.enterprise_id
    if role is not Role.ENTERPRISE and "enterprise_id" not in sent:
        binding = None  # leaving the enterprise role drops the binding
    code = await _binding(conn, role, binding)
    active = body.active if body.active is not None else before.active
    await _guard_last_admin(conn, admin, before, role, active)
    after = await accounts.update(
        conn,
        user_id=user_id,
        display_name=body.display_name if body.display_name is not None else before.display_name,
        role=role.value,
        enterprise_id=code,
        active=active,
        password_hash=hash_password(body.password) if body.password else None,
    )
    assert after is not None
    account_check(request).forget(user_id)
    changed = _snapshot(after) | ({"password_changed": True} if body.password else {})
    await audit.record(
        conn,
        principal=admin,
        action="user.update",
        target=f"user:{user_id}",
        before=_snapshot(before),
        after=changed,
        client_ip=client_ip(request),
    )
    return _out(after)


@router.delete("/{user_id}", response_model=UserOut)
async def deactivate_user(
    user_id: IdPath, admin: AdminOnly, conn: ConnDep, request: Request
) -> UserOut:
    """Deactivate an account (accounts are never deleted: the audit log refers to them)."""
    before = await _load(conn, user_id)
    await _guard_last_admin(conn, admin, before, Role(before.role), False)
    after = await accounts.update(
        conn,
        user_id=user_id,
        display_name=before.display_name,
        role=before.role,
        enterprise_id=before.enterprise_id,
        active=False,
    )
    assert after is not None
    account_check(request).forget(user_id)
    await audit.record(
        conn,
        principal=admin,
        action="user.deactivate",
        target=f"user:{user_id}",
        before=_snapshot(before),
        after=_snapshot(after),
        client_ip=client_ip(request),
    )
    return _out(after)
