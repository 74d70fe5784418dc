"""User management for administrators: list, create, change role, reset password, deactivate."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api.common import IdPath, Page, PagingDep, client_ip
from api.deps import AdminOnly, ConnDep, account_check
from api.errors import ERROR_RESPONSES
from api.security import hash_password
from domain.users import Role
from services import users
from services.changes import Actor
from storage import users as accounts
from storage.users import Account

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
    account = await users.create(
        conn,
        username=body.username,
        display_name=body.display_name,
        password_hash=hash_password(body.password),
        role=body.role,
        enterprise_id=body.enterprise_id,
        actor=Actor(admin, client_ip(request)),
    )
    return _out(account)


@router.get("/{user_id}", response_model=UserOut)
async def get_user(user_id: IdPath, _: AdminOnly, conn: ConnDep) -> UserOut:
    """One account."""
    return _out(await users.load(conn, user_id=user_id))


@router.patch("/{user_id}", response_model=UserOut)
async def update_user(
    user_id: IdPath, body: UserPatch, admin: AdminOnly, conn: ConnDep, request: Request
) -> UserOut:
    """Change display name, role (and its enterprise binding), password or active flag."""
    after = await users.update(
        conn,
        user_id=user_id,
        display_name=body.display_name,
        role=body.role,
        enterprise_id=body.enterprise_id,
        enterprise_id_sent="enterprise_id" in body.model_fields_set,
        active=body.active,
        password_hash=hash_password(body.password) if body.password else None,
        actor=Actor(admin, client_ip(request)),
    )
    account_check(request).forget(user_id)
    return _out(after)


@router.delete("/{user_id}", response_model=UserOut)
async def deactivate_user(
    user_id: IdPath, admin: AdminOnly, conn: ConnDep, request: Request
) -> UserOut:
    """Deactivate an account (accounts are never deleted: the audit log refers to them)."""
    after = await users.deactivate(conn, user_id=user_id, actor=Actor(admin, client_ip(request)))
    account_check(request).forget(user_id)
    return _out(after)


class OfficerLink(BaseModel):
    """The officer record an inspector account acts as (null unlinks)."""

    model_config = ConfigDict(extra="forbid")

    officer_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$")


class OfficerLinkOut(BaseModel):
    """An account and the officer record it is linked to."""

    user_id: int
    officer_id: str | None


@router.put("/{user_id}/officer", response_model=OfficerLinkOut)
async def link_officer(
    user_id: IdPath, body: OfficerLink, admin: AdminOnly, conn: ConnDep, request: Request
) -> OfficerLinkOut:
    """Link an inspector account to its officer record: an inspector records findings on,
    completes or cancels only inspections whose team includes that officer."""
    await users.link_officer(
        conn, user_id=user_id, officer_id=body.officer_id, actor=Actor(admin, client_ip(request))
    )
    return OfficerLinkOut(user_id=user_id, officer_id=body.officer_id)
