"""Every HTTP request gets an id: the caller's `X-Request-ID` when sane, else a new one; it is
echoed in the response and attached to every log line written while the request runs."""

from __future__ import annotations

import re
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.logs import log_context

#: What a proxy's or client's id may look like (anything else is replaced, never logged).
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def _incoming(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if SANE_ID.fullmatch(text) else None
    return None


class RequestIdMiddleware:
    """Pure ASGI middleware (no per-request task or body copy, unlike BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap `app`."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Tag the request, its log lines and its response with one id."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming(scope) or uuid.uuid4().hex
        header = (b"x-request-id", rid.encode())

        async def send_tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", ()))
                headers.append(header)
                message["headers"] = headers
            await send(message)

        with log_context(request_id=rid):
            await self.app(scope, receive, send_tagged)
