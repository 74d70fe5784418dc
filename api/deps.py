"""FastAPI dependencies: settings, database connections and the authenticated principal."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from starlette.requests import HTTPConnection

from api.account_check import AccountCheck
from api.security import read_token
from config.policy import Policies
from config.settings import Settings
from domain.errors import Forbidden, Unauthorized
from domain.i18n import msg, negotiate
from domain.users import Principal, Role
from storage.errors import amapped_errors

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_settings(request: Request) -> Settings:
    """The process settings."""
    settings: Settings = request.app.state.settings
    return settings


def pool_of(request: Request) -> AsyncConnectionPool:
    """The open connection pool of the app serving `request`."""
    pool: AsyncConnectionPool = request.app.state.pool
    return pool


# Dependencies are `async def` on purpose: FastAPI runs a plain `def` dependency in a thread
# pool, which cost about a third of a request's time here.
async def get_pool(request: Request) -> AsyncConnectionPool:
    """The open connection pool."""
    return pool_of(request)


async def get_conn(request: Request) -> AsyncIterator[AsyncConnection[Any]]:
    """A pooled connection inside one transaction, committed when the handler returns."""
    pool = pool_of(request)
    async with amapped_errors(), pool.connection() as conn:
        yield conn


async def get_lang(request: Request) -> str:
    """The caller's language from Accept-Language (zh-CN when absent or unsupported)."""
    return negotiate(request.headers.get("accept-language"))


async def get_policies(request: Request) -> Policies:
    """The policies the process was started with (built once in the composition root)."""
    policies: Policies = request.app.state.policies
    return policies


SettingsDep = Annotated[Settings, Depends(get_settings)]
LangDep = Annotated[str, Depends(get_lang)]
PoliciesDep = Annotated[Policies, Depends(get_policies)]
PoolDep = Annotated[AsyncConnectionPool, Depends(get_pool)]
# scope="function": the transaction commits before the response is sent (FastAPI's default
# "request" scope runs the exit code after it), so a client that reads right after a write it
# was answered for sees that write.
ConnDep = Annotated[AsyncConnection[Any], Depends(get_conn, scope="function")]


def account_check(request: HTTPConnection) -> AccountCheck:
    """The process's account-state cache (created on first use), for requests and sockets."""
    check: AccountCheck | None = getattr(request.app.state, "account_check", None)
    if check is None:
        check = request.app.state.account_check = AccountCheck()
    return check


async def get_principal(
    request: Request,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    """The principal of the bearer token; 401 without a valid one or a deactivated account."""
    if not token:
        raise Unauthorized(msg("auth.token_required"))
    principal = read_token(token, secret=settings.secret_key)
    await account_check(request).ensure_current(pool_of(request), principal)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency factory: the principal, if its role is one of `roles`; 403 otherwise."""
    allowed = frozenset(roles)

    async def dependency(principal: PrincipalDep) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(msg("auth.role_forbidden", role=principal.role.value))
        return principal

    return dependency


def ensure_enterprise_access(principal: Principal, credit_code: str) -> None:
    """Raise Forbidden when an enterprise user reaches for another enterprise's data."""
    if not principal.may_see_enterprise(credit_code):
        raise Forbidden(msg("auth.own_enterprise_only"))


Staff = Annotated[
    Principal, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR, Role.DUTY, Role.INSPECTOR))
]
AdminOnly = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
AnyUser = PrincipalDep
