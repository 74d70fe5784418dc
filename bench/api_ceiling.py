"""The ceiling for bench/api.py: a bare FastAPI app answering a small JSON document."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

app = FastAPI()

BODY: dict[str, Any] = {
    "enterprise_id": "91330102100000000H",
    "state": "operating",
    "online": True,
    "last_seen": "2026-11-29T08:00:00+08:00",
    "maintenance": [],
    "special_ops": [],
    "trial": None,
}


@app.get("/ceiling")
async def ceiling() -> dict[str, Any]:
    """A constant status-sized JSON answer."""
    return BODY
