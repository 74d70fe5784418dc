"""The video HTTP API over the real app (lifespan in the test's loop), broker and aiortc peers."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import av
import httpx
import pytest
from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from api.app import create_app
from api.security import hash_password
from config.settings import Settings
from monitor.video.agent import SiteAgent
from monitor.video.probe import ProbeViewer
from storage import users
from tests.conftest import TEST_ADMIN_PASSWORD
from tests.integration.video_helpers import ENT, OTHER, until

pytest_plugins = ["tests.integration.video_support"]
pytestmark = [pytest.mark.timeout(90), pytest.mark.usefixtures("video_loopback_candidates")]
PASSWORD = "video-role-password-1"


@pytest.fixture
async def app(
    video_settings: Settings, pool: AsyncConnectionPool, video_sites: list[str]
) -> AsyncIterator[FastAPI]:
    application = create_app(video_settings, pool=pool)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def headers_for(
    client: httpx.AsyncClient, pool: AsyncConnectionPool, role: str
) -> dict[str, str]:
    username, password = "admin", TEST_ADMIN_PASSWORD
    if role != "admin":
        username, password = f"v_{role}", PASSWORD
        async with pool.connection() as conn:
            await users.upsert(
                conn,
                username=username,
                password_hash=hash_password(password),
                role=role,
                enterprise_id=ENT if role == "enterprise" else None,
            )
    res = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


def error(res: httpx.Response) -> dict[str, str]:
    body = res.json()
    assert set(body) == {"error"}, body
    return body["error"]


async def test_watch_snapshot_hangup_and_recording_over_http(
    client: httpx.AsyncClient, pool: AsyncConnectionPool, video_agent: SiteAgent, app: FastAPI
):
    duty = await headers_for(client, pool, "duty")
    res = await client.post(
        "/api/v1/video/sessions",
        headers=duty,
        json={
            "enterprise": ENT,
            "purpose": "restart_verification",
            "restart_request_id": "RR-7",
            "note": "复产复验",
        },
    )
    assert res.status_code == 201, res.text
    session = res.json()
    sid = session["id"]
    assert session["state"] == "requested"
    assert "recording_path" not in session

    viewer = ProbeViewer()
    res = await client.post(
        f"/api/v1/video/sessions/{sid}/viewer",
        headers=duty,
        json={"type": "offer", "sdp": await viewer.offer()},
    )
    assert res.status_code == 200, res.text
    await viewer.accept(res.json()["sdp"])
    await viewer.wait_frames(20, within=15)

    res = await client.get(f"/api/v1/video/sessions/{sid}/snapshot.jpg", headers=duty)
    assert res.status_code == 200
    assert res.headers["content-type"] == "image/jpeg"
    with av.open(io.BytesIO(res.content)) as container:
        assert next(container.decode(video=0)).width == 640

    await until(
        lambda: app.state.video.live(sid).talkback.frames_forwarded > 10,
        within=30,
        what="talkback frames forwarded to the site",
    )
    body = (await client.get(f"/api/v1/video/sessions/{sid}", headers=duty)).json()
    assert body["state"] == "live"
    assert body["live"]["viewers"] == 1
    assert body["live"]["recording"] is True
    assert body["live"]["talkback_sources"] == 1

    await asyncio.sleep(1.5)
    res = await client.post(
        f"/api/v1/video/sessions/{sid}/hangup", headers=duty, json={"reason": "复产条件满足"}
    )
    assert res.status_code == 200, res.text
    ended = res.json()
    assert ended["state"] == "ended"
    assert ended["end_reason"] == "复产条件满足"
    assert ended["live"] is None
    assert ended["recording"]["url"] == f"/api/v1/video/sessions/{sid}/recording"
    await viewer.close()

    inspector = await headers_for(client, pool, "inspector")
    res = await client.get(ended["recording"]["url"], headers=inspector)
    assert res.status_code == 403
    assert error(res)["code"] == "forbidden"
    res = await client.get(ended["recording"]["url"], headers=duty)
    assert res.status_code == 200
    assert res.headers["content-type"] == "video/webm"
    assert len(res.content) == ended["recording"]["bytes"]
    with av.open(io.BytesIO(res.content)) as container:
        assert container.duration / 1e6 == pytest.approx(ended["recording"]["duration_s"], abs=0.3)

    listed = (
        await client.get("/api/v1/video/sessions?restart_request_id=RR-7", headers=duty)
    ).json()
    assert [s["id"] for s in listed] == [sid]
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT action FROM audit_log WHERE target = %(t)s ORDER BY id",
            {"t": f"video_session:{sid}"},
        )
        actions = [r[0] for r in await cur.fetchall()]
    assert actions == ["video.request", "video.hangup", "video.recording.read"]
    metrics = (await client.get("/metrics")).text
    assert 'safewatch_video_sessions_total{outcome="ended"}' in metrics
    assert "safewatch_video_request_to_live_seconds_count" in metrics


async def test_bad_requests_get_clear_errors(client: httpx.AsyncClient, pool: AsyncConnectionPool):
    duty = await headers_for(client, pool, "duty")
    res = await client.post(
        "/api/v1/video/sessions", json={"enterprise": OTHER, "purpose": "guidance"}
    )
    assert res.status_code == 401
    enterprise = await headers_for(client, pool, "enterprise")
    res = await client.post(
        "/api/v1/video/sessions",
        headers=enterprise,
        json={"enterprise": ENT, "purpose": "guidance"},
    )
    assert res.status_code == 403
    res = await client.post(
        "/api/v1/video/sessions", headers=duty, json={"enterprise": OTHER, "purpose": "sightseeing"}
    )
    assert res.status_code == 422
    res = await client.post(
        "/api/v1/video/sessions",
        headers=duty,
        json={"enterprise": OTHER[:-1] + "Z", "purpose": "guidance"},
    )
    assert res.status_code == 422
    assert "企业代码无效" in error(res)["message"]

    res = await client.post(
        "/api/v1/video/sessions", headers=duty, json={"enterprise": OTHER, "purpose": "guidance"}
    )
    sid = res.json()["id"]
    for sdp in ("", "v=0\r\ngarbage", "x" * 70_000):
        res = await client.post(
            f"/api/v1/video/sessions/{sid}/viewer", headers=duty, json={"type": "offer", "sdp": sdp}
        )
        assert res.status_code == 422, res.text
        assert error(res)["code"] == "validation_failed"
    res = await client.post(
        f"/api/v1/video/sessions/{sid}/viewer",
        headers=duty,
        json={"type": "offer", "sdp": "v=0\r\ngarbage"},
    )
    assert "视频连接描述格式错误（offer）" in error(res)["message"]
    res = await client.get("/api/v1/video/sessions/nope/snapshot.jpg", headers=duty)
    assert res.status_code == 404
    res = await client.get("/api/v1/video/sessions/..%2F..%2Fetc/recording", headers=duty)
    assert res.status_code in (404, 422)
    res = await client.get(f"/api/v1/video/sessions/{sid}/recording", headers=duty)
    assert res.status_code == 404
    ice = (await client.get("/api/v1/video/ice-servers", headers=duty)).json()
    assert ice == {"iceServers": []}


async def test_inspectors_cannot_end_duty_sessions_nor_take_the_duty_reserve(
    client: httpx.AsyncClient, pool: AsyncConnectionPool
) -> None:
    # video_settings: 2 sessions in all, 1 of them kept for duty staff
    duty = await headers_for(client, pool, "duty")
    inspector = await headers_for(client, pool, "inspector")
    body = {"enterprise": OTHER, "purpose": "guidance"}
    mine = await client.post("/api/v1/video/sessions", headers=inspector, json=body)
    assert mine.status_code == 201, mine.text
    refused = await client.post("/api/v1/video/sessions", headers=inspector, json=body)
    assert refused.status_code == 409
    assert "留给值班人员" in error(refused)["message"]
    theirs = await client.post("/api/v1/video/sessions", headers=duty, json=body)
    assert theirs.status_code == 201, theirs.text  # the reserve is there for the duty room
    sid = theirs.json()["id"]
    res = await client.post(f"/api/v1/video/sessions/{sid}/hangup", headers=inspector, json={})
    assert res.status_code == 403
    assert error(res)["code"] == "forbidden"
    res = await client.post(
        f"/api/v1/video/sessions/{mine.json()['id']}/hangup", headers=inspector, json={}
    )
    assert res.status_code == 200  # its own session
    assert (
        await client.post(f"/api/v1/video/sessions/{sid}/hangup", headers=duty, json={})
    ).status_code == 200
