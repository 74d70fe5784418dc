"""Real aiortc peers over the real broker: site agent ↔ session manager ↔ probe viewer."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator

import av
import paho.mqtt.client as mqtt
import paho.mqtt.publish as mqtt_publish
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from psycopg_pool import AsyncConnectionPool

from config.settings import Settings
from domain.credit_code import make_credit_code
from domain.errors import NotFound, RuleViolation, ValidationFailed
from domain.video import Purpose, SessionLinks, SessionState
from monitor.video.agent import AgentConfig, SiteAgent, run_agent
from monitor.video.manager import VideoLimits, VideoSessionManager
from monitor.video.mqtt import MqttOptions
from monitor.video.pattern import PatternRenderer, read_capture_ms
from monitor.video.probe import ProbeViewer
from monitor.video.service import video_service
from services.video import PgVideoStore
from tests.integration.video_helpers import ENT, OTHER, until

pytest_plugins = ["tests.integration.video_support"]
pytestmark = [pytest.mark.timeout(90), pytest.mark.usefixtures("video_loopback_candidates")]


@pytest.fixture
async def manager(
    video_settings: Settings, pool: AsyncConnectionPool, video_sites: list[str]
) -> AsyncIterator[VideoSessionManager]:
    async with video_service(video_settings, PgVideoStore(pool), require_broker=True) as mgr:
        yield mgr


async def wait_state(mgr: VideoSessionManager, sid: str, *states: SessionState, within: float):
    store = mgr._store  # the manager's own store: what the API would read
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        row = await store.get(sid)
        if row is not None and row.state in states:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"session {sid} never reached {states}: {await store.get(sid)}")


async def test_live_session_end_to_end(
    manager: VideoSessionManager, video_agent: SiteAgent, tmp_path
):
    started = time.monotonic()
    row = await manager.request(
        enterprise=ENT,
        requested_by="duty1",
        purpose=Purpose.RESTART_VERIFICATION,
        links=SessionLinks(restart_request_id="RR-1"),
    )
    assert row.state is SessionState.REQUESTED
    viewer = ProbeViewer()
    answer = await manager.add_viewer(row.id, await viewer.offer())
    await viewer.accept(answer.sdp)
    await viewer.wait_frames(30, within=15)
    live_row = await wait_state(manager, row.id, SessionState.LIVE, within=5)
    assert live_row.live_at is not None

    # frames decode, at full size, with the capture time readable in nearly all of them
    assert (viewer.width, viewer.height) == (640, 480)
    assert viewer.stamped >= 0.8 * viewer.frames
    assert 0 < sorted(viewer.latencies_ms)[len(viewer.latencies_ms) // 2] < 1000

    # snapshot: a JPEG of the newest frame
    jpeg = await manager.snapshot(row.id)
    with av.open(io.BytesIO(jpeg)) as container:
        shot = next(container.decode(video=0))
    assert (shot.width, shot.height) == (640, 480)

    # talkback: the viewer's tone reaches the agent
    site_session = video_agent.sessions[row.id]
    await until(lambda: site_session.talkback.voiced_frames >= 25, within=5)
    assert site_session.talkback.voiced_frames >= 25
    assert site_session.talkback.peak_level > 0.1

    await asyncio.sleep(max(0.0, 4.0 - (time.monotonic() - started)))
    live = manager.live(row.id)
    assert live is not None
    site_pc, recorder, talkback = live.site_pc, live.recorder, live.talkback
    viewer_pcs = [v.pc for v in live.viewers.values()]
    ended = await manager.hangup(row.id, reason="verified")
    assert ended.state is SessionState.ENDED
    assert ended.end_reason == "verified"

    # resources released on the server
    assert manager.live(row.id) is None
    assert site_pc is not None
    assert site_pc.connectionState == "closed"
    assert all(pc.connectionState == "closed" for pc in viewer_pcs)
    assert live.site_track is not None
    assert live.site_track.readyState == "ended"
    assert talkback is not None
    assert talkback.readyState == "ended"
    assert recorder is not None
    assert not recorder._thread.is_alive()
    assert not live.tasks

    # the agent was told and closed its side
    await until(lambda: row.id not in video_agent.sessions, within=5)
    assert row.id not in video_agent.sessions
    assert site_session.pc.connectionState == "closed"

    # the recording is playable and as long as the live part of the session
    assert ended.recording_path is not None
    assert ended.live_at is not None
    assert ended.ended_at is not None
    path = manager.recording_file(ended.recording_path)
    assert path.stat().st_size == ended.recording_bytes
    live_for = (ended.ended_at - ended.live_at).total_seconds()
    with av.open(str(path)) as container:
        duration = container.duration / 1e6
        frames = list(container.decode(video=0))
    assert duration == pytest.approx(live_for, abs=0.75)
    assert ended.recording_duration_s == pytest.approx(duration, abs=0.2)
    assert len(frames) >= 14 * duration * 0.85
    readable = [t for t in map(read_capture_ms, frames) if t is not None]
    assert len(readable) >= 0.8 * len(frames)
    assert readable == sorted(readable)
    await viewer.close()

    # talkback was recorded at the site as a WAV file
    with av.open(str(tmp_path / "talkback.wav")) as wav:
        assert wav.streams.audio[0].sample_rate == 48000


async def test_offline_site_fails_with_a_clear_reason_within_the_timeout(
    manager: VideoSessionManager,
):
    started = time.monotonic()
    row = await manager.request(enterprise=OTHER, requested_by="duty1", purpose=Purpose.GUIDANCE)
    failed = await wait_state(manager, row.id, SessionState.FAILED, within=6)
    took = time.monotonic() - started
    assert 3.0 <= took < 5.0
    assert failed.failure_reason is not None
    assert "did not answer within 3 s" in failed.failure_reason
    assert manager.live(row.id) is None


async def test_limits_and_refusals(manager: VideoSessionManager, video_sites: list[str]):
    with pytest.raises(NotFound, match="不在监管企业名录中"):
        await manager.request(
            enterprise=make_credit_code("330100", 699999), requested_by="d", purpose=Purpose.OTHER
        )
    with pytest.raises(ValidationFailed, match="企业代码无效"):
        await manager.request(enterprise="X" * 18, requested_by="d", purpose=Purpose.OTHER)
    first = await manager.request(enterprise=OTHER, requested_by="d", purpose=Purpose.OTHER)
    await manager.request(enterprise=OTHER, requested_by="d", purpose=Purpose.OTHER)
    with pytest.raises(RuleViolation, match="达到上限2个"):
        await manager.request(enterprise=OTHER, requested_by="d", purpose=Purpose.OTHER)
    with pytest.raises(ValidationFailed, match="视频连接描述格式错误（offer）"):
        await manager.add_viewer(first.id, "v=0\r\nnonsense")
    with pytest.raises(NotFound):
        await manager.snapshot("no-such-session")
    again = await manager.hangup(first.id, reason="changed my mind")
    assert again.state is SessionState.ENDED
    assert (await manager.hangup(first.id, reason="twice")).end_reason == "changed my mind"


async def test_site_with_a_malformed_offer_fails_and_is_told(
    manager: VideoSessionManager, video_settings: Settings
):
    prefix = video_settings.mqtt_topic_prefix
    heard: list[tuple[str, dict]] = []
    site = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    site.on_message = lambda _c, _u, m: heard.append((m.topic, json.loads(m.payload)))
    site.connect(video_settings.mqtt_host, video_settings.mqtt_port)
    site.subscribe(f"{prefix}/ent/{OTHER}/#", qos=1)
    site.loop_start()
    await asyncio.sleep(0.3)
    row = await manager.request(enterprise=OTHER, requested_by="d", purpose=Purpose.ALARM)
    await asyncio.to_thread(
        mqtt_publish.single,
        f"{prefix}/ent/{OTHER}/video/offer",
        json.dumps({"session_id": row.id, "type": "offer", "sdp": "v=0\r\ngarbage"}),
        qos=1,
        hostname=video_settings.mqtt_host,
        port=video_settings.mqtt_port,
    )
    failed = await wait_state(manager, row.id, SessionState.FAILED, within=3)
    assert failed.failure_reason is not None
    assert "unusable offer" in failed.failure_reason
    assert "malformed SDP offer" in failed.failure_reason
    await until(lambda: any(t.endswith("/video/hangup") for t, _ in heard), within=3)
    site.loop_stop()
    site.disconnect()
    kinds = {t.rsplit("/", 1)[1]: p for t, p in heard}
    assert kinds["request"]["session_id"] == row.id
    assert kinds["reject"]["ref"] == row.id
    assert kinds["reject"]["code"] == "validation_failed"
    assert kinds["reject"]["topic"] == f"{prefix}/ent/{OTHER}/video/offer"
    assert kinds["hangup"]["by"] == "server"
    assert "malformed SDP offer" in kinds["hangup"]["reason"]


async def test_sessions_of_a_stopped_server_fail_but_live_ones_stay(
    video_settings: Settings, pool: AsyncConnectionPool, video_sites: list[str], db_url: str
):
    fast = VideoLimits(answer_timeout_s=30, heartbeat_s=0.1, stale_after_s=0.4)
    store = PgVideoStore(pool)
    async with video_service(video_settings, store, limits=fast) as running:
        kept = await running.request(enterprise=OTHER, requested_by="d", purpose=Purpose.OTHER)
        async with video_service(video_settings, store, limits=fast) as dying:
            orphan = await dying.request(enterprise=OTHER, requested_by="d", purpose=Purpose.OTHER)
            dying._sessions.clear()  # as if its process had died with the session open
        await asyncio.sleep(0.8)
        async with video_service(video_settings, store, limits=fast):
            pass  # a restart: fails what nobody keeps alive, leaves the rest alone
        assert (await store.get(kept.id)).state is SessionState.REQUESTED
        failed = await store.get(orphan.id)
        assert failed.state is SessionState.FAILED
        assert "no heartbeat" in failed.failure_reason
    with psycopg.connect(db_url) as conn:
        kinds = conn.execute("SELECT count(*) FROM live_changes WHERE kind = 'video'").fetchone()
    assert kinds[0] >= 4


@pytest.mark.parametrize("relay", ["packets", "decoded"])
async def test_late_second_viewer_gets_video_in_both_relay_modes(
    relay: str,
    video_settings: Settings,
    pool: AsyncConnectionPool,
    video_sites: list[str],
    video_agent: SiteAgent,
):
    async with video_service(video_settings, PgVideoStore(pool), relay=relay) as mgr:
        row = await mgr.request(enterprise=ENT, requested_by="d", purpose=Purpose.GUIDANCE)
        first = ProbeViewer(talk=False)
        await first.accept((await mgr.add_viewer(row.id, await first.offer())).sdp)
        await first.wait_frames(15, within=15)
        second = ProbeViewer(talk=False)
        await second.accept((await mgr.add_viewer(row.id, await second.offer())).sdp)
        await second.wait_frames(15, within=5)
        assert second.first_frame_at is not None
        assert second.first_frame_at - second.started < 1.5
        # Re-encoding under CPU starvation blurs the drawn time code; forwarded packets don't.
        assert second.stamped >= (0.8 if relay == "packets" else 0.5) * second.frames
        live = mgr.live(row.id)
        assert live is not None
        assert (live.fanout is not None) == (relay == "packets")
        viewer_id = next(iter(live.viewers))
        await mgr.drop_viewer(row.id, viewer_id)
        assert len(live.viewers) == 1
        for viewer in (first, second):
            await viewer.close()


async def test_a_video_file_as_the_camera(
    manager: VideoSessionManager, video_settings: Settings, tmp_path
):
    clip = tmp_path / "camera.mp4"
    renderer = PatternRenderer(320, 240)
    with av.open(str(clip), "w") as out:
        stream = out.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(30):
            frame = renderer.render(i, 1_700_000_000_000 + i * 66)
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    stop = asyncio.Event()
    ready: asyncio.Future[SiteAgent] = asyncio.get_running_loop().create_future()
    config = AgentConfig(
        enterprise=OTHER,
        camera=str(clip),
        topic_prefix=video_settings.mqtt_topic_prefix,
        talkback="discard",
    )
    options = MqttOptions(
        host=video_settings.mqtt_host,
        port=video_settings.mqtt_port,
        client_id=f"file-agent-{OTHER}",
    )
    task = asyncio.create_task(run_agent(config, options, stop, ready=ready))
    try:
        await asyncio.wait_for(ready, 10)
        row = await manager.request(enterprise=OTHER, requested_by="d", purpose=Purpose.OTHER)
        viewer = ProbeViewer(talk=False)
        await viewer.accept((await manager.add_viewer(row.id, await viewer.offer())).sdp)
        await viewer.wait_frames(40, within=15)  # more than the clip holds: it loops
        assert (viewer.width, viewer.height) == (320, 240)
        assert viewer.stamped >= 0.8 * viewer.frames  # the clip's own (old) capture times
        await viewer.close()
        await manager.hangup(row.id, reason="done")
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
