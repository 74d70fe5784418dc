"""Request body limit: checked before the body is parsed and before authentication (413).

A pure ASGI middleware, outside FastAPI's routing: a declared Content-Length over the route's
limit is refused before one byte of the body is read, and a body without one (chunked) is
counted as it streams and refused the moment it passes the limit. Upload routes get a larger
limit than the JSON API.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

#: Paths whose bodies are file uploads (CSV/XLSX imports, evidence photos and documents).
UPLOAD_PATHS = re.compile(r"^/api/v1/(?:.+/)?(?:import|evidence)$")


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """The default limit and the larger ones for paths matching a pattern."""

    default: int
    overrides: Sequence[tuple[re.Pattern[str], int]] = ()

    def for_path(self, path: str) -> int:
        """The limit in bytes for a request to `path`."""
        for pattern, limit in self.overrides:
            if pattern.match(path):
                return limit
        return self.default


def _message(limit: int) -> str:
    return f"请求体超过上限 {limit} 字节（the request body is larger than {limit} bytes）"


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _message(limit))
        self.limit = limit


async def _refuse(send: Send, status: int, code: str, message: str, limit: int) -> None:
    body = json.dumps(
        {"error": {"code": code, "message": message, "details": {"limit_bytes": limit}}},
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Refuses bodies over the limit with 413 before anything downstream reads them."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope.get("path", ""))
        declared = [v for k, v in scope.get("headers", ()) if k == b"content-length"]
        if declared:
            try:
                length = int(declared[0])
            except ValueError:
                length = -1
            if length < 0:
                await _refuse(send, 400, "bad_request", "Content-Length 无效", limit)
                return
            if length > limit:
                log.info("body limit: %s declared %d bytes > %d", scope.get("path"), length, limit)
                await _refuse(send, 413, "too_large", _message(limit), limit)
                return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            log.info("body limit: %s streamed past %d bytes", scope.get("path"), limit)
            if not started:
                await _refuse(send, 413, "too_large", _message(limit), limit)
