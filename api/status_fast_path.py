"""A cached single-enterprise status answered before routing (publication-day and duty-room
polling): the same checks as the route, in the same order, with the same functions — token
(`read_token`), account state (`AccountCheck`), code and ownership (`validate_credit_code`,
`ensure_enterprise_access`) — then the live cache. Anything that is not a clean cached answer
(no or bad token, another's enterprise, a bad code, nothing cached, a query string, an error)
goes to the FastAPI route unchanged, which answers it exactly as before.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from api.account_check import AccountCheck
from api.deps import ensure_enterprise_access
from api.live_cache import LiveCache
from api.routes.monitoring import status_cache_name, status_refresher
from api.security import read_token
from domain.credit_code import validate_credit_code
from domain.errors import SafewatchError
from domain.i18n import negotiate

PATH = re.compile(r"/api/v1/enterprises/([^/]{1,64})/status")


class _NotCached(Exception):
    """Raised instead of rendering: the route renders (and answers any error)."""


async def _not_cached() -> bytes:
    raise _NotCached


class StatusFastPath:
    """Pure ASGI middleware; install it innermost so every other middleware still applies."""

    def __init__(self, app: ASGIApp, fastapi_app: Any) -> None:
        """Wrap `app`; `fastapi_app.state` holds the settings, pool and live cache."""
        self.app = app
        self.state = fastapi_app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a cached status read, or pass the request on."""
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            found = PATH.fullmatch(scope["path"])
            if found is not None:
                body = await self._cached(scope, found.group(1))
                if body is not None:
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 200,
                            "headers": [
                                (b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)

    async def _cached(self, scope: Scope, ent: str) -> bytes | None:
        cache: LiveCache | None = getattr(self.state, "live_cache", None)
        pool = getattr(self.state, "pool", None)
        if cache is None or pool is None:
            return None
        headers = dict(scope["headers"])
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        settings = self.state.settings
        try:
            principal = read_token(token, secret=settings.secret_key)
            check: AccountCheck | None = getattr(self.state, "account_check", None)
            if check is None:
                check = self.state.account_check = AccountCheck()
            await check.ensure_current(pool, principal)
            code = validate_credit_code(ent)
            ensure_enterprise_access(principal, code)
            lang = negotiate(headers.get(b"accept-language", b"").decode("latin-1") or None)
            refresh = status_refresher(pool, code, settings)
            return await cache.get(status_cache_name(lang), code, _not_cached, refresh)
        except (_NotCached, SafewatchError):
            return None
