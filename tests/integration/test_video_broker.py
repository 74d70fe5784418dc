"""Video over the project's own broker: per-enterprise credentials and ACL, and reconnection."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from psycopg_pool import AsyncConnectionPool

from config.settings import Settings
from domain.errors import ConfigurationError
from domain.video import Purpose, SessionState
from monitor.broker import BrokerProcess, start_mosquitto
from monitor.credentials import generate, read_accounts
from monitor.video.agent import AgentConfig, SiteAgent, publish_events, run_agent
from monitor.video.mqtt import MqttLink, MqttOptions
from monitor.video.probe import ProbeViewer
from monitor.video.service import video_service
from services.video import PgVideoStore
from tests.integration.video_helpers import ENT, broker_owned_dir, give_to_broker, until

pytest_plugins = ["tests.integration.video_support"]
pytestmark = [pytest.mark.timeout(90), pytest.mark.usefixtures("video_loopback_candidates")]
SERVICE_PASSWORD = "service-password-0123456789"


@pytest.fixture
def secured(topic_prefix: str) -> Iterator[tuple[BrokerProcess, dict[str, str]]]:
    """A broker with the generated password file and ACL; plus the enterprise's password."""
    root = broker_owned_dir()
    written = generate(
        root / "creds",
        prefix=topic_prefix,
        service_user="safewatch",
        service_password=SERVICE_PASSWORD,
        enterprises=[ENT],
    )
    service_files = (written.service_password_file, written.service_acl_file)
    give_to_broker(written.password_file, written.acl_file, *service_files)
    broker = start_mosquitto(
        root,
        password_file=written.password_file,
        acl_file=written.acl_file,
        service_password_file=written.service_password_file,
        service_acl_file=written.service_acl_file,
    )
    accounts = read_accounts(written.credentials)
    yield (
        broker,
        {
            "password": accounts[ENT].password,
            "passwd": str(written.password_file),
            "acl": str(written.acl_file),
            "service_passwd": str(written.service_password_file),
            "service_acl": str(written.service_acl_file),
            "root": str(root),
        },
    )
    broker.stop()
    shutil.rmtree(root, ignore_errors=True)


def options(broker: BrokerProcess, password: str, name: str = "agent") -> MqttOptions:
    return MqttOptions(
        host=broker.host,
        port=broker.port,
        client_id=f"{ENT}-{name}",
        username=ENT,
        password=password,
    )


@pytest.fixture
async def server_settings(
    video_settings: Settings, secured: tuple[BrokerProcess, dict[str, str]]
) -> Settings:
    broker, _ = secured
    return video_settings.model_copy(
        update={
            "mqtt_url": f"mqtt://{broker.host}:{broker.service_port}",
            "mqtt_username": "safewatch",
            "mqtt_password": SERVICE_PASSWORD,
        }
    )


async def start_agent(
    opts: MqttOptions, prefix: str
) -> tuple[SiteAgent, asyncio.Event, asyncio.Task]:
    stop = asyncio.Event()
    ready: asyncio.Future[SiteAgent] = asyncio.get_running_loop().create_future()
    config = AgentConfig(enterprise=ENT, topic_prefix=prefix, talkback="discard")
    task = asyncio.create_task(run_agent(config, opts, stop, ready=ready, presence=True))
    return await asyncio.wait_for(ready, 10), stop, task


async def wait_live(store: PgVideoStore, sid: str, *, within: float) -> None:
    """Until the session's row says live (the site's first frame reached the relay), as the
    dashboard sees it; AssertionError after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while (row := await store.get(sid)) is None or row.state is not SessionState.LIVE:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"session {sid} not live within {within} s: {row}")
        await asyncio.sleep(0.05)


async def watch(mgr, store: PgVideoStore, within: float = 15.0) -> str:
    row = await mgr.request(enterprise=ENT, requested_by="d", purpose=Purpose.GUIDANCE)
    # A viewer joins once the site sends (the manager refuses earlier joins after its short
    # answer timeout: "现场尚未开始发送视频"); under load the site's first frame can take longer.
    await wait_live(store, row.id, within=within)
    viewer = ProbeViewer(talk=False)
    try:
        await viewer.accept((await mgr.add_viewer(row.id, await viewer.offer())).sdp)
        await viewer.wait_frames(10, within=within)
    finally:
        await viewer.close()
    await mgr.hangup(row.id, reason="done")
    return row.id


async def test_enterprise_credentials_serve_video_and_report_events(
    secured, server_settings: Settings, pool: AsyncConnectionPool, video_sites: list[str]
):
    broker, creds = secured
    prefix = server_settings.mqtt_topic_prefix
    received: list[tuple[str, bytes]] = []
    watcher = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id="watcher", protocol=mqtt.MQTTv5
    )
    watcher.username_pw_set("safewatch", SERVICE_PASSWORD)
    watcher.on_message = lambda c, u, m: received.append((m.topic, m.payload))
    watcher.connect(broker.host, broker.service_port)
    watcher.subscribe(f"{prefix}/ent/{ENT}/#", qos=1)
    watcher.loop_start()
    try:
        async with video_service(server_settings, PgVideoStore(pool), require_broker=True) as mgr:
            _, halt, task = await start_agent(options(broker, creds["password"]), prefix)
            sid = await watch(mgr, PgVideoStore(pool))
            assert (await PgVideoStore(pool).get(sid)).state is SessionState.ENDED
            halt.set()
            await task
        event = {"type": "maintenance_start", "maint_id": "M-1", "scope": "unit"}
        link = MqttLink(options(broker, creds["password"], "events"), [], None)
        await link.start()
        sent = await publish_events(link, prefix, ENT, [event])
        await link.stop()
        await until(lambda: any(t.endswith("/event") for t, _ in received), within=5)
    finally:
        watcher.loop_stop()
        watcher.disconnect()
    events = [json.loads(p) for t, p in received if t.endswith("/event")]
    assert events == sent
    presence = [json.loads(p) for t, p in received if t.endswith("/presence")]
    # birth and heartbeat with the site's clock (docs/protocol.md, heartbeat), then offline
    assert any(p["online"] is True and "ts" in p for p in presence), presence
    assert presence[-1]["online"] is False, presence


async def test_wrong_password_is_refused_clearly(secured, topic_prefix: str):
    broker, _ = secured
    config = AgentConfig(enterprise=ENT, topic_prefix=topic_prefix)
    with pytest.raises(ConfigurationError, match="refused"):
        await run_agent(
            config, options(broker, "not-the-password"), asyncio.Event(), connect_timeout=5
        )


async def test_agent_and_server_reconnect_after_a_broker_restart(
    secured,
    server_settings: Settings,
    pool: AsyncConnectionPool,
    video_sites: list[str],
):
    broker, creds = secured
    prefix = server_settings.mqtt_topic_prefix
    async with video_service(server_settings, PgVideoStore(pool), require_broker=True) as mgr:
        _, halt, task = await start_agent(options(broker, creds["password"]), prefix)
        broker.stop()
        await asyncio.sleep(0.5)
        again = start_mosquitto(
            Path(creds["root"]),
            port=broker.port,
            password_file=Path(creds["passwd"]),
            acl_file=Path(creds["acl"]),
            service_password_file=Path(creds["service_passwd"]),
            service_acl_file=Path(creds["service_acl"]),
            service_port=broker.service_port,
        )
        try:
            await until(lambda: mgr.signalling_connected, within=30, what="signalling reconnected")
            # the agent's link: reconnected and resubscribed by paho
            await asyncio.sleep(1.5)
            sid = await watch(mgr, PgVideoStore(pool))
            assert (await PgVideoStore(pool).get(sid)).state is SessionState.ENDED
        finally:
            halt.set()
            await task
            again.stop()
