"""Video across two API processes: the session is requested on replica A (its owner, recorded in
the session row); a viewer offer, a snapshot and the hang-up sent to replica B are forwarded to A
and answered there — real aiortc peers, the site agent on the broker, one database."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from psycopg_pool import AsyncConnectionPool

from api.video_replicas import FORWARDED_BY, OWNER
from config.settings import Settings
from monitor.broker import free_port
from monitor.video.agent import SiteAgent
from monitor.video.probe import ProbeViewer
from tests.conftest import TEST_ADMIN_PASSWORD, TEST_SECRET
from tests.integration.apiclient import PASSWORD, add_user
from tests.integration.monitor_support import scalar, wait_for
from tests.integration.topology_support import Proc
from tests.integration.video_helpers import ENT, OTHER

pytest_plugins = ["tests.integration.video_support"]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(150),
    pytest.mark.usefixtures("video_loopback_candidates"),
]


async def _healthy(url: str) -> None:
    async def up() -> bool:
        try:
            async with httpx.AsyncClient(timeout=2) as c:
                return (await c.get(url + "/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    await wait_for(up, timeout=90, what=f"API replica {url} healthy")


@pytest.fixture
async def replicas(
    video_settings: Settings, db_url: str, video_sites: list[str], tmp_path: Path
) -> AsyncIterator[list[str]]:
    """Two `safewatch api` processes (aioice on loopback) on one database and broker."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SAFEWATCH_")},
        "SAFEWATCH_DATABASE_URL": db_url,
        "SAFEWATCH_MQTT_URL": video_settings.mqtt_url,
        "SAFEWATCH_MQTT_TOPIC_PREFIX": video_settings.mqtt_topic_prefix,
        "SAFEWATCH_SECRET_KEY": TEST_SECRET,
        "SAFEWATCH_ADMIN_PASSWORD": TEST_ADMIN_PASSWORD,
        "SAFEWATCH_VIDEO_ANSWER_TIMEOUT_S": "10",
    }
    ports = [free_port(), free_port()]
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = [
        Proc(
            f"api-{i}",
            ["api"],
            {**env, "SAFEWATCH_HTTP_PORT": str(p), "SAFEWATCH_DATA_DIR": str(tmp_path / f"d{i}")},
            logs,
            module="tests.integration.loopback_api",
        )
        for i, p in enumerate(ports)
    ]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        for url in urls:
            await _healthy(url)
        yield urls
    finally:
        for p in procs:
            await asyncio.to_thread(p.stop)


async def test_offer_snapshot_and_hangup_reach_the_owning_replica(
    replicas: list[str], pool: AsyncConnectionPool, video_agent: SiteAgent
) -> None:
    a, b = replicas
    async with httpx.AsyncClient(timeout=60) as c:
        res = await c.post(
            a + "/api/v1/auth/token", data={"username": "admin", "password": TEST_ADMIN_PASSWORD}
        )
        assert res.status_code == 200, res.text
        auth = {"Authorization": f"Bearer {res.json()['access_token']}"}
        res = await c.post(
            a + "/api/v1/video/sessions",
            headers=auth,
            json={"enterprise": ENT, "purpose": "guidance", "note": "跨实例"},
        )
        assert res.status_code == 201, res.text
        sid = res.json()["id"]
        owner = await scalar(
            pool, "SELECT owner_url FROM video_sessions WHERE id = %(i)s", {"i": sid}
        )
        assert owner == a

        viewer = ProbeViewer()
        res = await c.post(
            f"{b}/api/v1/video/sessions/{sid}/viewer",
            headers=auth,
            json={"type": "offer", "sdp": await viewer.offer()},
        )
        assert res.status_code == 200, res.text
        assert res.headers[OWNER] == a
        await viewer.accept(res.json()["sdp"])
        await viewer.wait_frames(10, within=30)

        res = await c.get(f"{b}/api/v1/video/sessions/{sid}/snapshot.jpg", headers=auth)
        assert res.status_code == 200
        assert res.headers["content-type"] == "image/jpeg"
        assert res.headers[OWNER] == a

        # A request already forwarded once is answered where it lands (no forwarding loops).
        res = await c.get(
            f"{b}/api/v1/video/sessions/{sid}/snapshot.jpg", headers={**auth, FORWARDED_BY: a}
        )
        assert res.status_code == 404

        res = await c.post(
            f"{b}/api/v1/video/sessions/{sid}/hangup", headers=auth, json={"reason": "结束"}
        )
        assert res.status_code == 200, res.text
        assert res.json()["state"] == "ended"
        await viewer.close()
        res = await c.get(f"{b}/api/v1/video/sessions/{sid}", headers=auth)
        assert res.json()["state"] == "ended"
    audit = await scalar(
        pool,
        "SELECT count(*) FROM audit_log WHERE target = %(t)s AND action = 'video.hangup'",
        {"t": f"video_session:{sid}"},
    )
    assert audit == 1


async def test_a_phone_answer_sent_to_another_replica_reaches_the_owner(
    replicas: list[str], pool: AsyncConnectionPool, db_url: str
) -> None:
    """Issue 16 (phone video) behind several API replicas: the enterprise's phone lists the
    request on either replica and its offer, sent to the one that does not own the session, is
    answered by the owner; the session goes live there."""
    from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack

    a, b = replicas
    add_user(db_url, "phone_other", "enterprise", OTHER)  # OTHER has no site agent
    pc = RTCPeerConnection()
    async with httpx.AsyncClient(timeout=60) as c:
        res = await c.post(
            a + "/api/v1/auth/token", data={"username": "admin", "password": TEST_ADMIN_PASSWORD}
        )
        staff = {"Authorization": f"Bearer {res.json()['access_token']}"}
        res = await c.post(
            b + "/api/v1/auth/token", data={"username": "phone_other", "password": PASSWORD}
        )
        assert res.status_code == 200, res.text
        phone = {"Authorization": f"Bearer {res.json()['access_token']}"}
        res = await c.post(
            a + "/api/v1/video/sessions",
            headers=staff,
            json={"enterprise": OTHER, "purpose": "guidance", "note": "手机跨实例"},
        )
        assert res.status_code == 201, res.text
        sid = res.json()["id"]
        res = await c.get(f"{b}/api/v1/enterprises/{OTHER}/video/requests", headers=phone)
        assert res.status_code == 200, res.text
        assert sid in res.json()["sessions"]  # B lists the request A owns

        pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
        pc.addTransceiver("audio", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        res = await c.post(
            f"{b}/api/v1/video/sessions/{sid}/phone-offer",
            headers=phone,
            json={"type": "offer", "sdp": pc.localDescription.sdp},
        )
        assert res.status_code == 200, res.text
        assert res.headers[OWNER] == a
        await pc.setRemoteDescription(RTCSessionDescription(res.json()["sdp"], "answer"))

        async def live() -> bool:
            state = await scalar(
                pool, "SELECT state FROM video_sessions WHERE id = %(i)s", {"i": sid}
            )
            return state == "live"

        await wait_for(live, timeout=30, what="the phone's session live on its owner")
        res = await c.post(
            f"{b}/api/v1/video/sessions/{sid}/hangup", headers=staff, json={"reason": "结束"}
        )
        assert res.status_code == 200, res.text
    await pc.close()
