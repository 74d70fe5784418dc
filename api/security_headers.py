"""Security headers on every answer: pages, static assets and the API.

Pages get a Content-Security-Policy that allows scripts only from this origin (no inline
script, no eval), `frame-ancestors 'none'` unless the bureau lists who may frame the public
page, and a Permissions-Policy that lets only the dashboard (live video talkback) use the
camera and microphone. Authenticated API answers get `Cache-Control: no-store` (they carry
contact phone numbers and case data). A route that sets its own CSP (the printable notices)
keeps it. The OpenAPI pages' inline bootstrap scripts are allowed by their hashes only.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors {ancestors}"
)
#: JSON, files and scripts are never rendered as documents: nothing may run or frame them.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#: A printable document: its own inline style, nothing else (set by the routes that serve one).
PRINT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
#: The OpenAPI browser loads Swagger UI / ReDoc from their CDN (FastAPI's default pages).
DOCS_CSP = (
    "default-src 'none'; script-src https://cdn.jsdelivr.net {hashes}; "
    "style-src https://cdn.jsdelivr.net https://fonts.googleapis.com 'unsafe-inline'; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "font-src https://fonts.gstatic.com; connect-src 'self'; worker-src blob:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PERMISSIONS_VIDEO = "camera=(self), microphone=(self), geolocation=(), payment=(), usb=()"
PERMISSIONS_NONE = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
DASHBOARD_PREFIX = "/ui/"
PUBLIC_PAGE = "/public/"
DOCS_PATHS = ("/docs", "/redoc", "/docs/oauth2-redirect")
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


@dataclass(frozen=True, slots=True)
class HeaderPolicy:
    """Who may frame the public page ('none' when empty)."""

    public_frame_ancestors: Sequence[str] = ()


def script_hashes(html: bytes) -> str:
    """CSP source expressions for the inline scripts of a page."""
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    )


class SecurityHeadersMiddleware:
    """Adds the headers to every HTTP answer (without overriding a route's own CSP)."""

    def __init__(self, app: ASGIApp, policy: HeaderPolicy = HeaderPolicy()) -> None:
        self.app = app
        self.public_ancestors = " ".join(policy.public_frame_ancestors) or "'none'"

    def _headers(self, path: str, content_type: str, authenticated: bool) -> dict[str, str]:
        page = content_type.startswith("text/html")
        ancestors = self.public_ancestors if path == PUBLIC_PAGE else "'none'"
        out = {
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Permissions-Policy": PERMISSIONS_VIDEO
            if path.startswith(DASHBOARD_PREFIX)
            else PERMISSIONS_NONE,
            "Content-Security-Policy": PAGE_CSP.format(ancestors=ancestors) if page else API_CSP,
        }
        if ancestors == "'none'":
            out["X-Frame-Options"] = "DENY"  # for browsers that predate frame-ancestors
        if authenticated or path.startswith("/api/"):
            out["Cache-Control"] = "no-store"
        return out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        authenticated = any(k == b"authorization" for k, _ in scope.get("headers", ()))
        if path in DOCS_PATHS:
            await self._docs(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            # A 304 updates the headers the browser stored with the 200: sending the API policy
            # there (a 304 has no content type) would replace a page's policy, so send none.
            if message["type"] == "http.response.start" and message["status"] != 304:
                headers = MutableHeaders(scope=message)
                wanted = self._headers(path, headers.get("content-type", ""), authenticated)
                for name, value in wanted.items():
                    if name == "Cache-Control" or name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Buffer the small OpenAPI page so its inline scripts can be allowed by hash."""
        start: Message | None = None
        body = b""

        async def capture(message: Message) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                start = message
                return
            body += message.get("body", b"")
            if message.get("more_body", False) or start is None:
                return
            headers = MutableHeaders(scope=start)
            for name, value in self._headers(scope["path"], "", False).items():
                headers[name] = value
            headers["Content-Security-Policy"] = DOCS_CSP.format(hashes=script_hashes(body))
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)
