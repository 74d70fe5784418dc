"""Enterprise self-service (企业端): the enterprise's own accounts, its contacts for notices, and
every account's own password change."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.common import IdPath, client_ip
from api.deps import ConnDep, PrincipalDep, account_check, require_roles
from api.enterprise_models import Contact
from api.errors import ERROR_RESPONSES
from api.routes.auth import THROTTLED_RESPONSE, claim_attempt
from api.routes.monitoring_common import VisibleEnt, require_enterprise
from api.routes.users import MIN_PASSWORD, USERNAME
from api.security import hash_password, verify_password
from domain.users import Principal, Role
from services import enterprise_accounts as service
from services.changes import Actor
from storage import enterprise_accounts as store
from storage import login_attempts
from storage.enterprise_accounts import EnterpriseAccount

router = APIRouter(prefix="/api/v1", tags=["enterprise self-service"], responses=ERROR_RESPONSES)

EnterpriseUser = Annotated[Principal, Depends(require_roles(Role.ENTERPRISE))]


class AccountOut(BaseModel):
    """An account of the enterprise: its manager (created by the bureau) or a reporter."""

    id: int
    username: str
    display_name: str
    active: bool
    manager: bool
    created_at: datetime


class ReporterIn(BaseModel):
    """A reporter account the manager adds."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"username": "li.report", "display_name": "李上报", "password": "x" * 12}]
        },
    )

    username: str = Field(pattern=USERNAME)
    display_name: str = Field(default="", max_length=100)
    password: str = Field(min_length=MIN_PASSWORD, max_length=200)


class PasswordIn(BaseModel):
    """The current password and the new one."""

    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=MIN_PASSWORD, max_length=200)


class ContactsIn(BaseModel):
    """The people notices go to (replaces the list)."""

    model_config = ConfigDict(extra="forbid")
    contacts: list[Contact] = Field(max_length=20)


def _out(a: EnterpriseAccount) -> AccountOut:
    return AccountOut(
        id=a.id,
        username=a.username,
        display_name=a.display_name,
        active=a.active,
        manager=a.manager,
        created_at=a.created_at,
    )


@router.get("/enterprises/{ent}/accounts", response_model=list[AccountOut])
async def list_accounts(ent: VisibleEnt, conn: ConnDep) -> list[AccountOut]:
    """The enterprise's accounts (its own users see them; staff too)."""
    await require_enterprise(conn, ent)
    return [_out(a) for a in await store.list_accounts(conn, ent=ent)]


@router.post("/enterprises/{ent}/accounts", response_model=AccountOut, status_code=201)
async def add_reporter(
    ent: VisibleEnt, body: ReporterIn, principal: EnterpriseUser, conn: ConnDep, request: Request
) -> AccountOut:
    """The enterprise's manager adds a reporter account (409 when the username is taken)."""
    await require_enterprise(conn, ent)
    account = await service.add_reporter(
        conn,
        ent=ent,
        username=body.username,
        display_name=body.display_name,
        password_hash=hash_password(body.password),
        actor=Actor(principal, client_ip(request)),
    )
    return _out(account)


@router.post("/enterprises/{ent}/accounts/{user_id}/deactivate", response_model=AccountOut)
async def deactivate_reporter(
    ent: VisibleEnt, user_id: IdPath, principal: EnterpriseUser, conn: ConnDep, request: Request
) -> AccountOut:
    """The enterprise's manager deactivates one of its reporters."""
    account = await service.deactivate_reporter(
        conn, ent=ent, user_id=user_id, actor=Actor(principal, client_ip(request))
    )
    account_check(request).forget(user_id)  # the reporter's tokens stop at once here
    return _out(account)


@router.get("/enterprises/{ent}/contacts", response_model=list[Contact])
async def get_contacts(ent: VisibleEnt, conn: ConnDep) -> list[Contact]:
    """The people notices go to."""
    await require_enterprise(conn, ent)
    return [Contact.model_validate(c) for c in await store.contacts(conn, ent=ent) or []]


@router.put("/enterprises/{ent}/contacts", response_model=list[Contact])
async def put_contacts(
    ent: VisibleEnt, body: ContactsIn, principal: EnterpriseUser, conn: ConnDep, request: Request
) -> list[Contact]:
    """The enterprise's manager replaces its contacts for notices."""
    after = await service.set_contacts(
        conn,
        ent=ent,
        contacts=[c.model_dump() for c in body.contacts],
        actor=Actor(principal, client_ip(request)),
    )
    return [Contact.model_validate(c) for c in after]


@router.post("/auth/password", status_code=204, response_model=None, responses=THROTTLED_RESPONSE)
async def change_password(
    body: PasswordIn, principal: PrincipalDep, conn: ConnDep, request: Request
) -> JSONResponse | None:
    """Change the signed-in account's own password (the current one is required); wrong current
    passwords count toward the sign-in throttle of the account (429 after repeated failures)."""
    attempt = await claim_attempt(conn, request, principal.username)
    if isinstance(attempt, JSONResponse):
        return attempt
    current = await store.password_hash(conn, user_id=principal.user_id)
    # argon2 takes tens of milliseconds of CPU: not on the event loop
    current_ok = await asyncio.to_thread(verify_password, body.current_password, current)
    await login_attempts.finish(conn, attempt_id=attempt, outcome="ok" if current_ok else "failed")
    if not current_ok:
        await conn.commit()  # the refusal below rolls the request's transaction back
    await service.change_password(
        conn,
        current_ok=current_ok,
        new_hash=hash_password(body.new_password),
        actor=Actor(principal, client_ip(request)),
    )
    return None
