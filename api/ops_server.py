"""/metrics and /healthz on a port of their own (SAFEWATCH_METRICS_PORT), for any process.

`safewatch monitor` and `safewatch scheduler` have no HTTP API; with this each process is its own
Prometheus scrape target and has a health check an orchestrator can call. The composition root
(`safewatch.py`) decides which checks a process answers for.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping

import psycopg
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.server import QuietServer, serve_until
from config.settings import Settings
from storage.pool import ping

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[tuple[bool, str]]]


def metrics_allowed(settings: Settings, authorization: str | None) -> bool:
    """Whether a request may read /metrics: always without a token set, else only with it."""
    if settings.metrics_token is None:
        return True
    expected = f"Bearer {settings.metrics_token}"
    return authorization is not None and hmac.compare_digest(
        authorization.encode(), expected.encode()
    )


def metrics_response(settings: Settings, authorization: str | None) -> Response:
    """Prometheus text, or 401 when a metrics token is set and not presented."""
    if not metrics_allowed(settings, authorization):
        return JSONResponse(
            {
                "error": {
                    "code": "unauthorized",
                    "message": "指标接口需要令牌 (metrics token required)",
                }
            },
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def database_check(settings: Settings) -> Check:
    """The database answers one round trip within 2 s (a connection of its own)."""

    async def check() -> tuple[bool, str]:
        try:
            async with asyncio.timeout(2):
                conn = await psycopg.AsyncConnection.connect(settings.database_url, autocommit=True)
                try:
                    await ping(conn)
                finally:
                    await conn.close()
        except Exception as exc:  # health reports, never raises
            return False, exc.__class__.__name__
        return True, "ok"

    return check


def gauge_check(metric: str, detail: str) -> Check:
    """Healthy while the process's own gauge `metric` is 1 (e.g. the ingest is connected)."""

    async def check() -> tuple[bool, str]:
        value = REGISTRY.get_sample_value(metric)
        return (value == 1, "ok" if value == 1 else detail)

    return check


def build_app(settings: Settings, checks: Mapping[str, Check]) -> Starlette:
    """The two-route app: /metrics and /healthz (200 when every check passes, else 503)."""

    async def metrics(request: Request) -> Response:
        return metrics_response(settings, request.headers.get("authorization"))

    async def healthz(_request: Request) -> Response:
        names = list(checks)
        results = await asyncio.gather(*(checks[n]() for n in names))
        ok = all(r[0] for r in results)
        body: dict[str, object] = {"status": "ok" if ok else "unhealthy"}
        body.update({n: {"ok": r[0], "detail": r[1]} for n, r in zip(names, results, strict=True)})
        return JSONResponse(body, status_code=200 if ok else 503)

    return Starlette(routes=[Route("/metrics", metrics), Route("/healthz", healthz)])


async def run_ops_server(
    settings: Settings, stop: asyncio.Event, checks: Mapping[str, Check]
) -> None:
    """Serve /metrics and /healthz on metrics_host:metrics_port until `stop`."""
    if settings.metrics_port is None:
        return
    config = uvicorn.Config(
        build_app(settings, checks),
        host=settings.metrics_host,
        port=settings.metrics_port,
        log_config=None,
        access_log=False,
        lifespan="off",
    )
    where = f"metrics server on {settings.metrics_host}:{settings.metrics_port}"
    await serve_until(QuietServer(config), stop, where)
    log.info("metrics server stopped")
