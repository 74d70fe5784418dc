"""The peer reference for bench/api.py: the status endpoint a competent team would write.

FastAPI, a PyJWT bearer check on every request (HS256, issuer and expiry verified, role claim
read), and one query through a psycopg async pool for the enterprise's status row, answered as
JSON. No caching. Started by bench/api.py with the same token secret and database.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

SECRET = os.environ["PEER_SECRET"]
POOL = AsyncConnectionPool(os.environ["PEER_DATABASE_URL"], min_size=4, max_size=10, open=False)

STATUS_ROW = """
SELECT enterprise_id, mode, mode_since, shutdown_scope, shutdown_units, shutdown_reason,
       planned_resume, restart_request, trial_id, trial_started_at, trial_planned_end,
       last_event_at, presence_online, presence_at, last_activity_at
  FROM enterprise_status WHERE enterprise_id = %(ent)s
"""


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Open the pool with the app."""
    await POOL.open(wait=True)
    yield
    await POOL.close()


app = FastAPI(lifespan=lifespan)
bearer = HTTPBearer()


async def principal(
    creds: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
) -> dict[str, Any]:
    """The verified token claims; 401 otherwise."""
    try:
        claims: dict[str, Any] = jwt.decode(
            creds.credentials, SECRET, algorithms=["HS256"], issuer="safewatch"
        )
    except jwt.InvalidTokenError as exc:
        raise HTTPException(401, "invalid token") from exc
    return claims


@app.get("/api/v1/enterprises/{ent}/status")
async def status(ent: str, claims: Annotated[dict[str, Any], Depends(principal)]) -> dict[str, Any]:
    """The enterprise's status row (404 when it has none); enterprise users see only theirs."""
    if claims.get("role") == "enterprise" and claims.get("ent") != ent:
        raise HTTPException(403, "not your enterprise")
    async with POOL.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(STATUS_ROW, {"ent": ent})
        row = await cur.fetchone()
    if row is None:
        raise HTTPException(404, "unknown enterprise")
    return row
