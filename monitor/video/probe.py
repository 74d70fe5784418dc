"""A headless viewer for tests, benchmarks and field checks: watches a session and talks a tone."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import math
import time
from array import array
from dataclasses import dataclass, field

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from monitor.video.jitter import use_marker_jitter_buffer
from monitor.video.pattern import read_capture_ms

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms


class ToneTrack(MediaStreamTrack):
    """A 440 Hz tone at half scale, paced in real time (a stand-in for a microphone)."""

    kind = "audio"

    def __init__(self, hz: float = 440.0) -> None:
        """Precompute one second of tone."""
        super().__init__()
        wave = array(
            "h",
            (int(16000 * math.sin(2 * math.pi * hz * i / SAMPLE_RATE)) for i in range(SAMPLE_RATE)),
        )
        self._wave = wave.tobytes() * 2
        self._pts = 0
        self._t0: float | None = None

    async def recv(self) -> av.AudioFrame:
        """The next 20 ms of tone."""
        if self.readyState != "live":
            raise MediaStreamError
        if self._t0 is None:
            self._t0 = time.monotonic()
        delay = self._t0 + self._pts / SAMPLE_RATE - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        offset = (self._pts % SAMPLE_RATE) * 2
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        frame.planes[0].update(self._wave[offset : offset + FRAME_SAMPLES * 2])
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self._pts += FRAME_SAMPLES
        return frame


@dataclass(eq=False)
class ProbeViewer:
    """Offers to receive video (and send a tone as talkback), then counts and times frames."""

    config: RTCConfiguration = field(default_factory=lambda: RTCConfiguration(iceServers=[]))
    talk: bool = True
    pc: RTCPeerConnection | None = None
    frames: int = 0
    stamped: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    frame_times: list[float] = field(default_factory=list)
    started: float = 0.0
    connected_at: float | None = None
    first_frame_at: float | None = None
    width: int = 0
    height: int = 0
    _task: asyncio.Task[None] | None = None
    _tone: ToneTrack | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def offer(self) -> str:
        """Create the SDP offer to post to the viewer endpoint."""
        self.started = time.monotonic()
        pc = RTCPeerConnection(configuration=self.config)
        self.pc = pc
        video = pc.addTransceiver("video", direction="recvonly")
        # Like a browser, hand each frame over on its last packet (no extra frame of delay).
        use_marker_jitter_buffer(video.receiver)
        if self.talk:
            self._tone = ToneTrack()
            pc.addTransceiver(self._tone, direction="sendonly")

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video":
                self._task = asyncio.ensure_future(self._read(track))

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if pc.connectionState == "connected" and self.connected_at is None:
                self.connected_at = time.monotonic()

        await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)

    async def accept(self, answer_sdp: str) -> None:
        """Apply the server's answer."""
        assert self.pc is not None
        await self.pc.setRemoteDescription(RTCSessionDescription(answer_sdp, "answer"))

    async def _read(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                now = time.monotonic()
                wall_ms = time.time() * 1000
                if not isinstance(frame, av.VideoFrame):
                    continue
                if self.first_frame_at is None:
                    self.first_frame_at = now
                    self.width, self.height = frame.width, frame.height
                self.frames += 1
                self.frame_times.append(now)
                self._arrived.set()
                capture = read_capture_ms(frame)
                if capture is not None:
                    self.stamped += 1
                    self.latencies_ms.append(wall_ms - capture)
        except MediaStreamError:
            pass

    async def wait_frames(self, count: int, *, within: float) -> None:
        """Wait until `count` frames have arrived (TimeoutError after `within` seconds)."""
        async with asyncio.timeout(within):
            while self.frames < count:
                self._arrived.clear()
                await self._arrived.wait()

    def fps(self, window_s: float) -> float:
        """Frames per second over the last `window_s` seconds."""
        if not self.frame_times:
            return 0.0
        end = self.frame_times[-1]
        recent = [t for t in self.frame_times if t > end - window_s]
        return (len(recent) - 1) / window_s if len(recent) > 1 else 0.0

    async def close(self) -> None:
        """Close the connection and stop reading."""
        if self._tone is not None:
            self._tone.stop()
        if self.pc is not None:
            await self.pc.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
