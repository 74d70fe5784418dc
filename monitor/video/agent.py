"""The site agent: answers video requests with a camera (or a test pattern) and hears talkback."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer, MediaRelay
from aiortc.mediastreams import MediaStreamTrack

from domain.credit_code import credit_code_problem
from domain.errors import ValidationFailed
from monitor.site_outbox import Outbox
from monitor.video.ice import IceServer, rtc_configuration
from monitor.video.manager import SDP_ERRORS
from monitor.video.mqtt import MqttLink, MqttOptions, MqttSignaller
from monitor.video.sdp import validate_sdp
from monitor.video.signalling import (
    HangupMsg,
    RequestMsg,
    SdpMsg,
    Signaller,
    event_topic,
    parse_payload,
    parse_topic,
    site_subscriptions,
    video_topic,
)
from monitor.video.sources import check_camera, open_camera
from monitor.video.talkback import TalkbackSink

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """What one site agent serves and how."""

    enterprise: str
    camera: str = "pattern"
    topic_prefix: str = "safewatch/v1"
    ice_servers: tuple[IceServer, ...] = ()
    talkback: str = "discard"
    answer_timeout_s: float = 20.0
    max_sessions: int = 2
    #: With presence: `{"online": true, "ts": …}` this often (docs/protocol.md, "Heartbeat":
    #: at most 60 s; the service calls a site offline after 120 s without a message).
    heartbeat_s: float = 60.0


def _vp8_preferences() -> list[Any]:
    caps = RTCRtpSender.getCapabilities("video")
    keep = ("video/VP8", "video/rtx")
    return [c for c in caps.codecs if c.mimeType in keep] if caps else []


@dataclass(eq=False)
class AgentSession:
    """One server session this site is sending video to."""

    id: str
    pc: RTCPeerConnection
    talkback: TalkbackSink
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    answered: bool = False


class SiteAgent:
    """Signalling logic of a site; the MQTT link (or a test bus) feeds `handle_message`."""

    def __init__(self, config: AgentConfig, signaller: Signaller) -> None:
        """Serve `config.enterprise` and publish through `signaller`."""
        problem = credit_code_problem(config.enterprise)
        if problem is not None:
            raise ValidationFailed(f"--enterprise refused: {problem}")
        check_camera(config.camera)
        self.config = config
        self._signaller = signaller
        self.sessions: dict[str, AgentSession] = {}
        self.finished: list[AgentSession] = []
        self._relay = MediaRelay()
        self._source: MediaStreamTrack | None = None
        self._player: MediaPlayer | None = None
        self._source_lock = asyncio.Lock()

    def _topic(self, kind: Any) -> str:
        return video_topic(self.config.topic_prefix, self.config.enterprise, kind)

    async def handle_message(self, topic: str, payload: bytes) -> None:
        """Route an inbound request, answer or hangup; bad ones are logged and skipped."""
        try:
            parsed = parse_topic(self.config.topic_prefix, topic)
            if parsed.enterprise != self.config.enterprise:
                return
            if parsed.kind == "request":
                await self._on_request(parse_payload(RequestMsg, payload))
            elif parsed.kind == "answer":
                await self._on_answer(parse_payload(SdpMsg, payload))
            elif parsed.kind == "hangup":
                msg = parse_payload(HangupMsg, payload)
                if msg.by != "site":
                    await self.close(msg.session_id, reason=None)
        except ValidationFailed as exc:
            log.warning("agent ignored a message on %s: %s", topic[:120], exc.message[:200])

    async def _on_request(self, msg: RequestMsg) -> None:
        if msg.session_id in self.sessions:
            return  # redelivered request
        if len(self.sessions) >= self.config.max_sessions:
            await self._hangup(msg.session_id, "the site agent is busy with other sessions")
            return
        label = f"agent {msg.session_id[:8]}"
        log.info("[%s] video requested by %s (%s)", label, msg.requested_by, msg.purpose)
        try:
            source = await self._acquire_source()
        except (ValidationFailed, OSError, ValueError) as exc:
            reason = exc.message if isinstance(exc, ValidationFailed) else str(exc)
            await self._hangup(msg.session_id, f"camera unavailable: {reason}")
            return
        pc = RTCPeerConnection(configuration=rtc_configuration(self.config.ice_servers))
        session = AgentSession(msg.session_id, pc, TalkbackSink(self.config.talkback, label=label))
        self.sessions[msg.session_id] = session
        video = pc.addTransceiver(self._relay.subscribe(source, buffered=False), "sendonly")
        video.setCodecPreferences(_vp8_preferences())
        pc.addTransceiver("audio", direction="recvonly")

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                session.talkback.start(track)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            log.info("[%s] connection %s", label, pc.connectionState)
            if pc.connectionState == "failed":
                await self.close(session.id, reason="the connection to the server failed")

        await pc.setLocalDescription(await pc.createOffer())
        await self._signaller.publish(
            self._topic("offer"),
            {"session_id": session.id, "type": "offer", "sdp": pc.localDescription.sdp},
        )
        session.tasks.add(asyncio.create_task(self._answer_timer(session)))

    async def _answer_timer(self, session: AgentSession) -> None:
        await asyncio.sleep(self.config.answer_timeout_s)
        if not session.answered and session.id in self.sessions:
            await self.close(session.id, reason="the server did not answer the offer")

    async def _on_answer(self, msg: SdpMsg) -> None:
        session = self.sessions.get(msg.session_id)
        if session is None or session.answered or msg.type != "answer":
            return
        try:
            validate_sdp(msg.sdp, kind="answer")
            await session.pc.setRemoteDescription(RTCSessionDescription(msg.sdp, "answer"))
        except ValidationFailed as exc:
            await self.close(session.id, reason=exc.message)
            return
        except SDP_ERRORS as exc:
            await self.close(session.id, reason=f"the server's answer cannot be used: {exc}")
            return
        session.answered = True

    async def close(self, session_id: str, *, reason: str | None) -> None:
        """End a session; with a `reason` the server is told (a server hangup has none)."""
        session = self.sessions.pop(session_id, None)
        if session is None:
            return
        for task in session.tasks:
            if task is not asyncio.current_task():
                task.cancel()
        await session.pc.close()
        await session.talkback.stop()
        self.finished.append(session)
        if reason is not None:
            await self._hangup(session_id, reason)
        if not self.sessions:
            self._release_source()
        log.info("[agent %s] closed (%s)", session_id[:8], reason or "server hung up")

    async def close_all(self, reason: str) -> None:
        """End every session (agent shutting down)."""
        for session_id in list(self.sessions):
            await self.close(session_id, reason=reason)

    async def _hangup(self, session_id: str, reason: str) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            await self._signaller.publish(
                self._topic("hangup"), {"session_id": session_id, "reason": reason, "by": "site"}
            )

    async def _acquire_source(self) -> MediaStreamTrack:
        async with self._source_lock:
            current = self._source
            if current is not None and current.readyState == "live":
                return current
            # Opening an RTSP stream or a device blocks for seconds: not on the loop.
            track, player = await asyncio.to_thread(open_camera, self.config.camera)
            self._source, self._player = track, player
            return track

    def _release_source(self) -> None:
        if self._source is not None:
            self._source.stop()
        self._source = self._player = None


def make_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """An operation event ready to publish: event_id and ts filled in when missing."""
    if not isinstance(event.get("type"), str) or not event["type"]:
        raise ValidationFailed("an operation event needs a 'type' (e.g. shutdown, resume_request)")
    out = dict(event)
    out.setdefault("event_id", uuid.uuid4().hex)
    out.setdefault("ts", datetime.now(UTC).astimezone().isoformat(timespec="milliseconds"))
    return out


async def publish_events(
    link: MqttLink, prefix: str, enterprise: str, events: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Publish operation events at QoS 1 and wait for the broker to take each one."""
    sent = []
    for raw in events:
        event = make_event(raw)
        await link.publish(event_topic(prefix, enterprise), event, wait=10.0)
        sent.append(event)
    return sent


async def send_outbox(link: MqttLink, prefix: str, enterprise: str, outbox: Outbox) -> int:
    """Publish the outbox's pending events oldest first (QoS 1), each marked done at its
    PUBACK; return how many were sent."""
    sent = 0
    for event in outbox.pending():
        await link.publish(event_topic(prefix, enterprise), event, wait=10.0)
        outbox.done(event["event_id"])
        log.info("published %s event %s", event["type"], event["event_id"])
        sent += 1
    return sent


async def run_agent(
    config: AgentConfig,
    options: MqttOptions,
    stop: asyncio.Event,
    *,
    events: Sequence[Mapping[str, Any]] = (),
    presence: bool = False,
    connect_timeout: float = 30.0,
    ready: asyncio.Future[SiteAgent] | None = None,
    outbox: Outbox | None = None,
) -> SiteAgent:
    """Connect, publish `events` (through `outbox` when given: what a crash left pending is
    sent first, with its ids), then serve video requests until `stop` is set."""
    presence_topic = f"{config.topic_prefix}/ent/{config.enterprise}/presence"
    if presence:
        options = dataclasses.replace(options, will=(presence_topic, b'{"online": false}', True))
    holder: list[SiteAgent] = []
    base = f"{config.topic_prefix}/ent/{config.enterprise}/"
    downlinks = [base + k for k in ("guidance", "notice", "reject", "receipt")]

    async def handle(topic: str, payload: bytes) -> None:
        if topic.startswith(base) and topic[len(base) :] in ("guidance", "notice"):
            await acknowledge(link, base + "ack", topic, payload)
        elif topic.startswith(base) and topic[len(base) :] in ("reject", "receipt"):
            log.warning("%s: %s", topic[len(base) :], payload[:500].decode(errors="replace"))
        elif holder:
            await holder[0].handle_message(topic, payload)

    link = MqttLink(
        options, site_subscriptions(config.topic_prefix, config.enterprise) + downlinks, handle
    )
    agent = SiteAgent(config, MqttSignaller(link))
    holder.append(agent)
    if presence:  # online with ts after every (re)connection, before anything else
        link.birth = (
            presence_topic,
            lambda: json.dumps(presence_payload(online=True)).encode(),
            True,
        )
    await link.start(connect_timeout=connect_timeout)
    beating: asyncio.Task[None] | None = None
    try:
        if presence:
            beating = asyncio.create_task(_heartbeat(link, presence_topic, config.heartbeat_s))
        if outbox is not None:
            for raw in events:
                outbox.add(raw)
            await send_outbox(link, config.topic_prefix, config.enterprise, outbox)
        else:
            for event in await publish_events(link, config.topic_prefix, config.enterprise, events):
                log.info("published %s event %s", event["type"], event["event_id"])
        if ready is not None and not ready.done():
            ready.set_result(agent)
        await stop.wait()
    finally:
        if beating is not None:
            beating.cancel()
        await agent.close_all("the site agent stopped")
        if presence:
            # A planned stop: said before the clean disconnect (which suppresses the will), so
            # the site is offline at once and no alarm is raised.
            with contextlib.suppress(ConnectionError, TimeoutError):
                await link.publish(
                    presence_topic, presence_payload(online=False), retain=True, wait=2.0
                )
        await link.stop()
    return agent


async def acknowledge(link: MqttLink, ack_topic: str, topic: str, payload: bytes) -> None:
    """Acknowledge a guidance or notice on …/ack (every copy: the service re-publishes with the
    same id until it has the ack, and a second ack is harmless)."""
    try:
        body = json.loads(payload)
    except ValueError:
        log.warning("unreadable downlink on %s", topic[:120])
        return
    ref = body.get("id") if isinstance(body, dict) else None
    if not isinstance(ref, str):
        return
    log.info("%s %s from %s: %s", topic.rsplit("/", 1)[-1], ref, body.get("from"), body.get("text"))
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    await link.publish(ack_topic, {"ref": ref, "ts": now})


def presence_payload(*, online: bool) -> dict[str, Any]:
    """The site's own presence message: online with the time (a heartbeat), or a planned stop.
    The last will is `{"online": false}` (no `ts`, no `planned`)."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    return {"online": True, "ts": now} if online else {"online": False, "planned": True, "ts": now}


async def _heartbeat(link: MqttLink, topic: str, every_s: float) -> None:
    """Presence with `ts` every `every_s` while connected (queued by paho while not)."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await link.publish(topic, presence_payload(online=True), retain=True)
        except ConnectionError as exc:
            log.warning("heartbeat not sent: %s", exc)
