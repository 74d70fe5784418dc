"""OAuth2 password flow issuing short-lived JWTs."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import ConnDep, PrincipalDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.security import issue_token, verify_password
from domain.clock import utcnow
from domain.errors import Unauthorized
from domain.users import Principal, Role
from storage import users

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=ERROR_RESPONSES)


class TokenResponse(BaseModel):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str
    enterprise_id: str | None = None


class MeResponse(BaseModel):
    """The signed-in principal."""

    user_id: int
    username: str
    role: str
    enterprise_id: str | None = None


@router.post("/token", response_model=TokenResponse)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], conn: ConnDep, settings: SettingsDep
) -> TokenResponse:
    """Exchange a username and password for a bearer token."""
    user = await users.get_by_username(conn, username=form.username)
    valid = verify_password(form.password, user.password_hash if user else None)
    if user is None or not valid or not user.active:
        raise Unauthorized("wrong username or password")
    principal = Principal(user.id, user.username, Role(user.role), user.enterprise_id)
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    return TokenResponse(
        access_token=issue_token(principal, secret=settings.secret_key, now=utcnow(), ttl=ttl),
        expires_in=int(ttl.total_seconds()),
        role=principal.role.value,
        enterprise_id=principal.enterprise_id,
    )


@router.get("/me", response_model=MeResponse)
async def me(principal: PrincipalDep) -> MeResponse:
    """Who the bearer token belongs to."""
    return MeResponse(
        user_id=principal.user_id,
        username=principal.username,
        role=principal.role.value,
        enterprise_id=principal.enterprise_id,
    )
