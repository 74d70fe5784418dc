"""One running session in memory: the site's peer connection, its relay, recorder and viewers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from domain.video import SessionState, VideoSessionId
from monitor.video import metrics
from monitor.video.forward import (
    EncodedFanout,
    KeyframeRequester,
    forward_viewer_pli,
    site_pli,
)
from monitor.video.jitter import use_marker_jitter_buffer
from monitor.video.recorder import PacketRecorder, tap_encoded_frames
from monitor.video.talkback import TalkbackTrack

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class VideoLimits:
    """Capacity and timeouts (settings.video_*)."""

    max_sessions: int = 4
    #: One account's open sessions, and the global slots kept for duty staff (issue 11).
    max_per_user: int = 2
    duty_reserve: int = 1
    max_viewers: int = 8
    answer_timeout_s: float = 20.0
    idle_timeout_s: float = 600.0
    media_timeout_s: float = 15.0
    #: Open sessions are marked alive this often; unmarked for `stale_after_s` means orphaned.
    heartbeat_s: float = 15.0
    stale_after_s: float = 60.0


DEFAULT_LIMITS = VideoLimits()


def vp8_only() -> list[Any]:
    """Codec preference list holding VP8 alone (the recorder muxes VP8 without re-encoding)."""
    caps = RTCRtpReceiver.getCapabilities("video")
    return [c for c in caps.codecs if c.mimeType == "video/VP8"] if caps else []


@dataclass(eq=False)
class Viewer:
    """One browser (or probe) watching the session."""

    id: str
    pc: RTCPeerConnection
    video: MediaStreamTrack
    microphone: MediaStreamTrack | None = None


@dataclass(eq=False)
class LiveSession:
    """Mutable state of a session this process runs; `label` prefixes every log line."""

    id: VideoSessionId
    enterprise: str
    state: SessionState
    label: str
    requested_mono: float = field(default_factory=time.monotonic)
    connecting_mono: float | None = None
    live_mono: float | None = None
    idle_since: float | None = None
    last_frame_mono: float | None = None
    frames: int = 0
    site_pc: RTCPeerConnection | None = None
    site_track: MediaStreamTrack | None = None
    relay: MediaRelay = field(default_factory=MediaRelay)
    #: "packets": viewers get the site's VP8 frames as received; "decoded": MediaRelay re-encodes.
    relay_mode: str = "packets"
    fanout: EncodedFanout | None = None
    talkback: TalkbackTrack | None = None
    recorder: PacketRecorder | None = None
    latest_frame: av.VideoFrame | None = None
    viewers: dict[str, Viewer] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    first_frame: asyncio.Event = field(default_factory=asyncio.Event)
    closing: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def spawn(self, coro: Any) -> None:
        """Run `coro` as a task owned by this session (cancelled when it closes)."""
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def open_site(
        self, offer_sdp: str, config: RTCConfiguration, recorder: PacketRecorder | None
    ) -> str:
        """Answer the site's offer: receive VP8 video, send talkback audio; return the answer."""
        pc = RTCPeerConnection(configuration=config)
        self.site_pc = pc
        video = pc.addTransceiver("video", direction="recvonly")
        video.setCodecPreferences(vp8_only())
        use_marker_jitter_buffer(video.receiver)
        self.talkback = TalkbackTrack(label=self.label)
        pc.addTransceiver(self.talkback, direction="sendonly")
        keyframe = KeyframeRequester(site_pli(video.receiver))
        fanout = EncodedFanout(keyframe) if self.relay_mode == "packets" else None

        def on_encoded(data: bytes, rtp_ts: int, broken: bool) -> None:
            if broken:
                keyframe()
            if recorder is not None:
                recorder.feed(data, rtp_ts, broken)
            if fanout is not None:
                fanout.feed(data, rtp_ts, broken)

        if (recorder is not None or fanout is not None) and tap_encoded_frames(
            video.receiver, on_encoded
        ):
            self.fanout = fanout
            if recorder is not None:
                self.recorder = recorder
                recorder.start()

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video" and self.site_track is None:
                log.info("[%s] site video track arrived", self.label)
                self.site_track = track
                self.spawn(self._pump(self.relay.subscribe(track, buffered=False)))

        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return str(pc.localDescription.sdp)

    async def _pump(self, frames: MediaStreamTrack) -> None:
        """Keep the newest decoded frame (snapshots) and note when video flows."""
        try:
            while True:
                frame = await frames.recv()
                assert isinstance(frame, av.VideoFrame)
                self.latest_frame = frame
                self.frames += 1
                self.last_frame_mono = time.monotonic()
                if not self.first_frame.is_set():
                    self.first_frame.set()
        except MediaStreamError:
            log.info("[%s] site video ended after %d frames", self.label, self.frames)

    async def add_viewer(
        self, viewer_id: str, offer_sdp: str, config: RTCConfiguration
    ) -> tuple[Viewer, str]:
        """Answer a viewer's offer with the relayed site video; its microphone feeds talkback."""
        if self.site_track is None:
            raise RuntimeError("no site video yet")
        pc = RTCPeerConnection(configuration=config)
        if self.fanout is not None:
            # Taken by the browser's video m-line; VP8 only, so packets can be sent as they are.
            sending = pc.addTransceiver(self.fanout.subscribe(), direction="sendonly")
            sending.setCodecPreferences(vp8_only())
            forward_viewer_pli(sending.sender, self.fanout)
            track = sending.sender.track
        else:
            track = self.relay.subscribe(self.site_track, buffered=False)
        viewer = Viewer(viewer_id, pc, track)
        self.viewers[viewer_id] = viewer
        metrics.VIEWERS.inc()
        self.idle_since = None

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio" and self.talkback is not None:
                viewer.microphone = track
                self.talkback.attach(track)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            if self.fanout is None:
                pc.addTrack(viewer.video)
            await pc.setLocalDescription(await pc.createAnswer())
        except BaseException:
            await self.drop_viewer(viewer_id)
            raise
        return viewer, str(pc.localDescription.sdp)

    async def drop_viewer(self, viewer_id: str) -> None:
        """Close one viewer's connection and stop its tracks."""
        viewer = self.viewers.pop(viewer_id, None)
        if viewer is None:
            return
        metrics.VIEWERS.dec()
        if viewer.microphone is not None and self.talkback is not None:
            self.talkback.detach(viewer.microphone)
        viewer.video.stop()
        await viewer.pc.close()
        if not self.viewers:
            self.idle_since = time.monotonic()
        log.info("[%s] viewer %s left (%d remain)", self.label, viewer_id, len(self.viewers))

    async def close_media(self) -> None:
        """Close every viewer, the site connection and the talkback track (idempotent)."""
        for viewer_id in list(self.viewers):
            await self.drop_viewer(viewer_id)
        if self.talkback is not None:
            self.talkback.stop()
        if self.fanout is not None:
            self.fanout.close()
        if self.site_pc is not None:
            await self.site_pc.close()
        if self.site_track is not None:
            self.site_track.stop()
        current = asyncio.current_task()
        pending = [t for t in self.tasks if t is not current]
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
