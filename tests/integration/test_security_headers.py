"""Security headers on pages, static assets and the API, from the real server."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.integration.conftest import bearer
from tests.integration.liveserver import ServerThread


def _directives(csp: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def _common(res: httpx.Response) -> dict[str, list[str]]:
    assert res.headers["x-content-type-options"] == "nosniff"
    assert res.headers["referrer-policy"] == "no-referrer"
    assert "server" not in res.headers
    csp = _directives(res.headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in csp.get("script-src", [])
    assert "'unsafe-eval'" not in csp.get("script-src", [])
    return csp


@pytest.mark.parametrize("path", ["/ui/", "/public/"])
def test_pages_allow_only_their_own_scripts(live_server: ServerThread, path: str) -> None:
    res = httpx.get(live_server.url + path)
    assert res.status_code == 200
    csp = _common(res)
    assert csp["script-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert res.headers["x-frame-options"] == "DENY"
    # the pages load their scripts from files, so the policy costs them nothing
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", res.text)
    camera = "camera=(self)" if path == "/ui/" else "camera=()"
    assert camera in res.headers["permissions-policy"]
    assert ("microphone=(self)" in res.headers["permissions-policy"]) == (path == "/ui/")


@pytest.mark.parametrize("path", ["/static/app.js", "/static/style.css", "/healthz"])
def test_assets_and_open_routes(live_server: ServerThread, path: str) -> None:
    res = httpx.get(live_server.url + path)
    assert res.status_code == 200
    assert _common(res)["default-src"] == ["'none'"]
    assert "camera=()" in res.headers["permissions-policy"]


def test_authenticated_api_answers_are_not_stored(live_server: ServerThread) -> None:
    headers = bearer(live_server)
    for path in ("/api/v1/auth/me", "/api/v1/enterprises", "/api/v1/users"):
        res = httpx.get(live_server.url + path, headers=headers)
        assert res.status_code == 200, res.text
        assert res.headers["cache-control"] == "no-store"
        _common(res)
    token = httpx.post(
        live_server.url + "/api/v1/auth/token", data={"username": "admin", "password": "no"}
    )
    assert token.headers["cache-control"] == "no-store"  # errors and the token endpoint too


def test_openapi_browser_runs_only_its_hashed_bootstrap(live_server: ServerThread) -> None:
    res = httpx.get(live_server.url + "/docs")
    assert res.status_code == 200
    csp = _common(res)
    assert any(src.startswith("'sha256-") for src in csp["script-src"])


def test_body_limit_refusals_carry_the_headers(live_server: ServerThread) -> None:
    res = httpx.post(live_server.url + "/api/v1/enterprises", content=b"x" * (2 * 1024 * 1024))
    assert res.status_code == 413
    _common(res)


def test_a_revalidated_page_keeps_its_policy(live_server: ServerThread) -> None:
    first = httpx.get(live_server.url + "/ui/")
    etag = first.headers.get("etag")
    if etag is None:
        pytest.skip("pages are not validated by ETag")
    again = httpx.get(live_server.url + "/ui/", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert "content-security-policy" not in again.headers  # the stored page policy stays
