"""Liveness/readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from api.ops_server import metrics_response
from config.settings import Settings
from services.health import broker_check, database_check

router = APIRouter(tags=["health"])


HEALTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "database and broker are healthy"},
    503: {"description": "database or broker is not reachable (same body shape)"},
}
METRICS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "metrics"},
    401: {"description": "SAFEWATCH_METRICS_TOKEN is set and the bearer token is missing"},
    404: {"description": "metrics are served on SAFEWATCH_METRICS_PORT instead"},
}


@router.get("/healthz", responses=HEALTH_RESPONSES)
async def healthz(request: Request) -> JSONResponse:
    """Database and broker state; 200 when both are healthy, 503 otherwise."""
    settings: Settings = request.app.state.settings
    (db_ok, db_detail), (mq_ok, mq_detail) = await asyncio.gather(
        database_check(getattr(request.app.state, "pool", None)),
        broker_check(settings)(),
    )
    body: dict[str, Any] = {
        "status": "ok" if db_ok and mq_ok else "unhealthy",
        "database": {"ok": db_ok, "detail": db_detail},
        "broker": {"ok": mq_ok, "detail": mq_detail},
    }
    return JSONResponse(body, status_code=200 if db_ok and mq_ok else 503)


@router.get("/metrics", response_class=Response, responses=METRICS_RESPONSES)
async def metrics(request: Request) -> Response:
    """Prometheus text of this process's metrics (token-protected when SAFEWATCH_METRICS_TOKEN
    is set; only on the metrics port when SAFEWATCH_METRICS_PORT is set)."""
    settings: Settings = request.app.state.settings
    if settings.metrics_port is not None:
        return JSONResponse(
            {
                "error": {
                    "code": "not_found",
                    "message": "指标在专用端口提供 (metrics are on the metrics port)",
                }
            },
            status_code=404,
        )
    return metrics_response(settings, request.headers.get("authorization"))
