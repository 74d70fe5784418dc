"""Video sessions across API replicas: a request for a session that another replica owns (its
peer connections and MQTT signalling live there) is forwarded to that replica, whose address is
recorded in the session row when the session is requested."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from fastapi import Request, Response
from psycopg import AsyncConnection

from domain.errors import RuleViolation
from domain.i18n import msg
from monitor.video.manager import VideoSessionManager
from storage import video_replicas

log = logging.getLogger(__name__)

#: Set on a forwarded request (the forwarding replica's address): never forwarded again.
FORWARDED_BY = "X-Safewatch-Forwarded-By"
#: Names the owner on a forwarded answer.
OWNER = "X-Safewatch-Video-Owner"
#: A viewer offer waits for the owner's ICE gathering and the site's answer.
FORWARD_TIMEOUT_S = 40.0
_PASSED = ("authorization", "content-type", "accept", "accept-language")


async def forward_if_elsewhere(
    request: Request, conn: AsyncConnection[Any], manager: VideoSessionManager, session_id: str
) -> Response | None:
    """The owner's answer when another replica owns the session, else None (handle it here)."""
    if manager.live(session_id) is not None or request.headers.get(FORWARDED_BY):
        return None
    me: str = request.app.state.settings.own_replica_url
    owner = await video_replicas.owner_of(conn, session_id=session_id)
    if owner is None or owner == me:
        return None
    url = owner + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    headers = {k: v for k, v in request.headers.items() if k.lower() in _PASSED}
    headers[FORWARDED_BY] = me
    try:
        async with httpx.AsyncClient(timeout=FORWARD_TIMEOUT_S) as client:
            res = await client.request(
                request.method, url, content=await request.body(), headers=headers
            )
    except httpx.HTTPError as exc:
        log.warning("video session %s: owner %s unreachable (%s)", session_id, owner, exc)
        raise RuleViolation(
            msg("video.owner_unreachable", session_id=session_id, owner=owner),
            details={"owner": owner},
        ) from exc
    log.info("video session %s: %s forwarded to its owner %s", session_id, request.method, owner)
    out = {OWNER: owner}
    if "content-type" in res.headers:
        out["content-type"] = res.headers["content-type"]
    return Response(content=res.content, status_code=res.status_code, headers=out)
