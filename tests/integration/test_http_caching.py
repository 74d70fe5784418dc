"""Published draws, public results and static assets carry strong ETags and Cache-Control, and
answer a matching If-None-Match with a body-less 304 (a published document without the
database); the status endpoint serves its cached body until the enterprise changes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from psycopg_pool import AsyncConnectionPool

from api.app import create_app
from api.http_cache import IMMUTABLE
from config.settings import Settings
from demo.data import demo_enterprises
from scheduler.demo_seed import seed_demo
from storage import draws, seed


@pytest.fixture
async def drawn(pool: AsyncConnectionPool, settings: Settings) -> int:
    async with pool.connection() as conn:
        await seed.seed_enterprises(conn, rows=demo_enterprises())
    await seed_demo(pool, settings)
    async with pool.connection() as conn:
        records = await draws.list_draws(conn)
    return records[0].id


async def test_published_draw_document_is_immutable_and_revalidates(
    settings: Settings, drawn: int, pool: AsyncConnectionPool
) -> None:
    url = f"/public/v1/draws/{drawn}/document"
    with TestClient(create_app(settings)) as c:
        full = c.get(url)
        assert full.status_code == 200
        tag = full.headers["etag"]
        assert not tag.startswith("W/")
        assert full.headers["cache-control"] == IMMUTABLE
        again = c.get(url, headers={"If-None-Match": tag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == tag
        assert c.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200
        # The tag of a final document is remembered: a revalidation needs no database.
        c.app.state.pool = None  # type: ignore[attr-defined]
        assert c.get(url, headers={"If-None-Match": tag}).status_code == 304
        c.app.state.pool = pool  # type: ignore[attr-defined]

        detail = c.get(f"/public/v1/draws/{drawn}")
        assert detail.status_code == 200
        assert detail.json()["id"] == drawn
        assert detail.headers["cache-control"] == "public, max-age=300"
        d_tag = detail.headers["etag"]
        assert (
            c.get(f"/public/v1/draws/{drawn}", headers={"If-None-Match": d_tag}).status_code == 304
        )


def test_results_and_static_assets_revalidate(settings: Settings) -> None:
    with TestClient(create_app(settings)) as c:
        results = c.get("/public/v1/results")
        assert results.status_code == 200
        assert results.json()["total"] == 0
        assert results.headers["cache-control"] == "public, max-age=60"
        tag = results.headers["etag"]
        assert c.get("/public/v1/results", headers={"If-None-Match": tag}).status_code == 304
        for path in ("/static/app.js", "/ui/", "/public/", "/public/v1/verifier.py"):
            first = c.get(path)
            assert first.status_code == 200, path
            assert first.headers["cache-control"] == "no-cache", path
            hit = c.get(path, headers={"If-None-Match": first.headers["etag"]})
            assert hit.status_code == 304, path
        assert "attachment" in c.get("/public/v1/verifier.py").headers["content-disposition"]


def test_cached_status_fast_path_keeps_every_check(settings: Settings, db_url: str) -> None:
    import time

    from tests.integration.apiclient import role_headers, seed

    a, b = seed(db_url, 2)[:2]
    with TestClient(create_app(settings)) as c:
        hub = c.app.state.live_hub  # type: ignore[attr-defined]
        deadline = time.monotonic() + 30
        while not hub.connected.is_set():  # the cache is used only while the feed listens
            assert time.monotonic() < deadline, "live hub never connected"
            time.sleep(0.05)
        heads = role_headers(c, db_url, a)
        cache = c.app.state.live_cache  # type: ignore[attr-defined]
        first = c.get(f"/api/v1/enterprises/{a}/status", headers=heads["duty"])
        assert first.status_code == 200
        hits = cache.hits
        again = c.get(f"/api/v1/enterprises/{a}/status", headers=heads["duty"])
        assert cache.hits == hits + 1  # answered from the cache
        assert again.content == first.content
        assert again.headers["content-type"] == first.headers["content-type"]
        assert again.headers["x-request-id"]  # outer middleware still applies
        # Every refusal is the route's own answer, cached body or not.
        own = c.get(f"/api/v1/enterprises/{a}/status", headers=heads["enterprise"])
        assert own.status_code == 200
        assert (
            c.get(f"/api/v1/enterprises/{b}/status", headers=heads["enterprise"]).status_code == 403
        )
        assert c.get(f"/api/v1/enterprises/{a}/status").status_code == 401
        bad = {"Authorization": "Bearer not-a-token"}
        assert c.get(f"/api/v1/enterprises/{a}/status", headers=bad).status_code == 401
        broken = a[:-1] + ("0" if a[-1] != "0" else "1")
        assert (
            c.get(f"/api/v1/enterprises/{broken}/status", headers=heads["duty"]).status_code == 422
        )
        english = c.get(
            f"/api/v1/enterprises/{a}/status",
            headers=heads["duty"] | {"Accept-Language": "en"},
        )
        assert english.status_code == 200
