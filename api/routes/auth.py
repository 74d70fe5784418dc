"""OAuth2 password flow issuing short-lived JWTs, throttled after repeated failures."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from psycopg import AsyncConnection
from pydantic import BaseModel

from api.common import client_ip
from api.deps import ConnDep, PrincipalDep, SettingsDep
from api.errors import ERROR_RESPONSES, ErrorResponse, error_json
from api.security import issue_token, verify_password
from domain.clock import utcnow
from domain.errors import Unauthorized
from domain.i18n import msg, negotiate, render
from domain.throttle import DEFAULT_POLICY, Lockout, ThrottlePolicy, lockout_for
from domain.users import Principal, Role
from storage import login_attempts, users

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


THROTTLED_RESPONSE: dict[int | str, dict[str, Any]] = {
    429: {
        "model": ErrorResponse,
        "description": "too many failed sign-ins for this username or client address; "
        "the Retry-After header says when to try again",
    }
}


def _policy(request: Request) -> ThrottlePolicy:
    policy = getattr(request.app.state, "login_throttle", None)
    return policy if isinstance(policy, ThrottlePolicy) else DEFAULT_POLICY


def _throttled(lock: Lockout, request: Request) -> JSONResponse:
    key = "auth.too_many_attempts." + ("username" if lock.scope == "username" else "address")
    text = render(
        msg(key, seconds=lock.retry_after_s), negotiate(request.headers.get("accept-language"))
    )
    response = error_json(
        429,
        "too_many_requests",
        text,
        {"scope": lock.scope, "failures": lock.failures, "retry_after_s": lock.retry_after_s},
    )
    response.headers["Retry-After"] = str(lock.retry_after_s)
    return response


async def claim_attempt(
    conn: AsyncConnection[Any], request: Request, name: str
) -> int | JSONResponse:
    """Check the throttle of `name` and the caller's address and claim a pending attempt under
    one lock (parallel guesses see each other's pending attempts), committed; or the 429 answer.
    The caller resolves the attempt with `login_attempts.finish` as ok or failed. Sign-ins and
    password changes share the budget: both check the account's password."""
    policy, ip = _policy(request), client_ip(request)
    await login_attempts.lock(conn, username=name, client_ip=ip)
    now, by_user, by_ip = await login_attempts.recent_failures(
        conn,
        username=name,
        client_ip=ip,
        window=policy.window,
        user_limit=policy.per_user,
        ip_limit=policy.per_ip,
    )
    lock = lockout_for(
        by_user, limit=policy.per_user, window=policy.window, now=now, scope="username"
    ) or lockout_for(by_ip, limit=policy.per_ip, window=policy.window, now=now, scope="client_ip")
    if lock is not None:
        await login_attempts.record(conn, username=name, client_ip=ip, outcome="throttled")
        return _throttled(lock, request)
    attempt = await login_attempts.start(conn, username=name, client_ip=ip)
    await conn.commit()  # releases the lock; the pending attempt now counts for the others
    return attempt


@router.post("/token", response_model=TokenResponse, responses=THROTTLED_RESPONSE)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    conn: ConnDep,
    settings: SettingsDep,
    request: Request,
) -> TokenResponse | JSONResponse:
    """Exchange a username and password for a bearer token (429 after repeated failures)."""
    name = form.username
    attempt = await claim_attempt(conn, request, name)
    if isinstance(attempt, JSONResponse):
        return attempt
    user = await users.get_by_username(conn, username=name)
    # argon2 takes tens of milliseconds of CPU: not on the event loop
    valid = await asyncio.to_thread(
        verify_password, form.password, user.password_hash if user else None
    )
    if user is None or not valid or not user.active:
        await login_attempts.finish(conn, attempt_id=attempt, outcome="failed")
        await conn.commit()  # the error below rolls the request's transaction back
        raise Unauthorized(msg("auth.wrong_password"))
    await login_attempts.finish(conn, attempt_id=attempt, outcome="ok")
    principal = Principal(user.id, user.username, Role(user.role), user.enterprise_id)
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    return TokenResponse(
        access_token=issue_token(principal, secret=settings.secret_key, now=utcnow(), ttl=ttl),
        expires_in=int(ttl.total_seconds()),
        role=principal.role.value,
        enterprise_id=principal.enterprise_id,
    )


@router.post("/refresh", response_model=TokenResponse)
async def refresh(principal: PrincipalDep, conn: ConnDep, settings: SettingsDep) -> TokenResponse:
    """A fresh token for a still-valid one, while the account is active (long duty shifts)."""
    user = await users.get_by_id(conn, user_id=principal.user_id)
    if user is None or not user.active or user.role != principal.role.value:
        raise Unauthorized(msg("auth.session_invalid"))
    fresh = Principal(user.id, user.username, Role(user.role), user.enterprise_id)
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    return TokenResponse(
        access_token=issue_token(fresh, secret=settings.secret_key, now=utcnow(), ttl=ttl),
        expires_in=int(ttl.total_seconds()),
        role=fresh.role.value,
        enterprise_id=fresh.enterprise_id,
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
