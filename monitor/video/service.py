"""Composition of the video service for the API process: MQTT link, store, session manager."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from config.settings import Settings
from monitor.video.ice import parse_ice_servers
from monitor.video.manager import VideoSessionManager
from monitor.video.mqtt import MqttLink, MqttOptions, MqttSignaller
from monitor.video.session import VideoLimits
from monitor.video.signalling import server_subscriptions
from monitor.video.store import VideoStore

log = logging.getLogger(__name__)


def limits_from(settings: Settings) -> VideoLimits:
    """Capacity and timeouts from settings."""
    return VideoLimits(
        max_sessions=settings.video_max_sessions,
        max_per_user=settings.video_max_sessions_per_user,
        duty_reserve=min(settings.video_duty_reserve, settings.video_max_sessions - 1),
        answer_timeout_s=settings.video_answer_timeout_s,
        idle_timeout_s=settings.video_idle_timeout_s,
    )


@asynccontextmanager
async def video_service(
    settings: Settings,
    store: VideoStore,
    *,
    require_broker: bool = False,
    limits: VideoLimits | None = None,
    relay: str = "packets",
) -> AsyncIterator[VideoSessionManager]:
    """Run a session manager with its own MQTT client for the lifetime of the block.

    Without `require_broker` the API starts even while the broker is down (paho reconnects).
    """
    holder: list[VideoSessionManager] = []

    async def inbound(topic: str, payload: bytes) -> None:
        if holder:
            await holder[0].handle_message(topic, payload)

    options = MqttOptions(
        host=settings.mqtt_host,
        port=settings.mqtt_port,
        client_id=f"safewatch-video-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}",
        username=settings.mqtt_username,
        password=settings.mqtt_password,
        tls=settings.mqtt_tls,
        ca_file=str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None,
    )
    link = MqttLink(options, server_subscriptions(settings.mqtt_topic_prefix), inbound)
    manager = VideoSessionManager(
        store=store,
        signaller=MqttSignaller(link),
        topic_prefix=settings.mqtt_topic_prefix,
        recordings_dir=settings.data_dir / "recordings",
        ice_servers=parse_ice_servers(settings.ice_servers),
        limits=limits or limits_from(settings),
        tz=settings.tz,
        relay=relay,
    )
    holder.append(manager)
    await link.start(connect_timeout=10.0, required=require_broker)
    try:
        await manager.start()
        yield manager
    finally:
        await manager.shutdown()
        await link.stop()
        log.info("video service stopped")
