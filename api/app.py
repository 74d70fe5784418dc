"""The FastAPI application factory; routers are discovered in api/routes."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from api import errors, routes
from api.body_limit import UPLOAD_PATHS, BodyLimitMiddleware, BodyLimits
from api.request_id import RequestIdMiddleware
from api.security import hash_password, verify_password
from api.security_headers import HeaderPolicy, SecurityHeadersMiddleware
from api.status_fast_path import StatusFastPath
from config.policy import Policies, load_policies
from config.settings import Settings
from domain.users import Role
from storage import users
from storage.pool import make_pool

log = logging.getLogger(__name__)

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

DESCRIPTION = """\
Safewatch HTTP API: enterprise directory, remote monitoring, alarms and guidance, verifiable
double-random inspections, live video. Errors always have the shape
`{"error": {"code", "message", "details"?}}`. `/api/v1` needs a bearer token from
`POST /api/v1/auth/token`; `/public/v1` is open to everyone.
"""


def discover_routers() -> list[tuple[str, Any, Lifespan | None]]:
    """Import every module in api/routes and return (name, router, lifespan-or-None)."""
    found = []
    for info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if router is not None:
            found.append((info.name, router, getattr(module, "lifespan", None)))
    return found


async def ensure_admin(pool: AsyncConnectionPool, settings: Settings) -> None:
    """Create the `admin` account from SAFEWATCH_ADMIN_PASSWORD if it is missing.

    An existing admin keeps its password (it may have been changed in the UI); only demo mode
    resets it, so the printed demo login always works.
    """
    async with pool.connection() as conn:
        user = await users.get_by_username(conn, username="admin")
        if user is not None and (
            not settings.demo or verify_password(settings.admin_password, user.password_hash)
        ):
            return
        await users.upsert(
            conn,
            username="admin",
            display_name="管理员",
            password_hash=hash_password(settings.admin_password),
            role=Role.ADMIN,
        )
        log.info("admin account %s", "updated" if user else "created")


def create_app(
    settings: Settings,
    *,
    pool: AsyncConnectionPool | None = None,
    policies: Policies | None = None,
) -> FastAPI:
    """Build the app. With `pool` given, the caller owns it; otherwise the lifespan does.
    `policies` come from the composition root; without them the policy files are read here."""
    discovered = discover_routers()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if pool is None:
                own = make_pool(
                    settings.database_url,
                    min_size=settings.db_pool_min,
                    max_size=settings.db_pool_max,
                )
                await own.open(wait=True, timeout=30)
                stack.push_async_callback(own.close)
                app.state.pool = own
            await ensure_admin(app.state.pool, settings)
            for name, _, hook in discovered:
                if hook is not None:
                    log.debug("starting %s", name)
                    await stack.enter_async_context(hook(app))
            yield
        log.info("api stopped")

    app = FastAPI(title="Safewatch", version="1.0.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.policies = policies or load_policies(settings.policy_dir)
    app.state.pool = pool
    errors.install(app)
    # Innermost (added first): every middleware added below also wraps its answers.
    app.add_middleware(StatusFastPath, fastapi_app=app)
    app.add_middleware(
        BodyLimitMiddleware,
        limits=BodyLimits(
            settings.http_max_body_bytes, ((UPLOAD_PATHS, settings.http_max_upload_bytes),)
        ),
    )
    app.add_middleware(RequestIdMiddleware)
    # added after the body limit, so outside it: a 413 carries the headers too
    app.add_middleware(
        SecurityHeadersMiddleware,
        policy=HeaderPolicy(public_frame_ancestors=settings.http_public_frame_ancestors),
    )
    for _, router, _ in discovered:
        app.include_router(router)
    return app
