"""Evidence recording without re-encoding: the site's VP8 frames are muxed into WebM as received.

aiortc's `MediaRecorder` decodes and re-encodes every frame (60–80 % of a core per session on
this machine). The receiver already holds each complete encoded frame before it decodes it, so
`tap_encoded_frames` copies those frames to a `PacketRecorder`, whose writer thread only muxes.
"""

from __future__ import annotations

import fractions
import hashlib
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

log = logging.getLogger(__name__)

RTP_VIDEO_CLOCK = 90000
_TIME_BASE = fractions.Fraction(1, RTP_VIDEO_CLOCK)
#: About 20 s at 15 fps; a writer further behind than this drops to the next keyframe.
QUEUE_FRAMES = 300

#: Close a WebM cluster every second and write it out at once: a process that dies mid-session
#: leaves a file that plays up to the last second (the defaults buffer several seconds).
WEBM_OPTIONS = {"cluster_time_limit": "1000", "flush_packets": "1"}
#: sink(data, rtp_timestamp, broken): `broken` frames follow lost data (see jitter.py).
FrameSink = Callable[[bytes, int, bool], None]


@dataclass(frozen=True, slots=True)
class RecordingResult:
    """What a finished recording holds."""

    path: Path
    size_bytes: int
    duration_s: float
    frames: int
    sha256: str | None


def vp8_keyframe_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) if `data` is a VP8 keyframe (RFC 6386 §9.1), else None."""
    if len(data) < 10 or data[0] & 1 or data[3:6] != b"\x9d\x01\x2a":
        return None
    width = int.from_bytes(data[6:8], "little") & 0x3FFF
    height = int.from_bytes(data[8:10], "little") & 0x3FFF
    return (width, height) if width and height else None


def tap_encoded_frames(receiver: Any, sink: FrameSink) -> bool:
    """Copy each encoded frame `receiver` hands its decoder to `sink(data, rtp_ts, broken)`.

    Relies on aiortc 1.x internals (the receiver's decoder queue of (codec, JitterFrame));
    returns False, and records nothing, if they are not there.
    """
    q = getattr(receiver, "_RTCRtpReceiver__decoder_queue", None)
    if not isinstance(q, queue.Queue):
        log.error("aiortc internals changed: cannot tap encoded frames; recording disabled")
        return False
    original_put = q.put

    def put(item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is not None:
            try:
                codec, frame = item
                if codec.name == "VP8":
                    sink(frame.data, frame.timestamp, bool(getattr(frame, "broken", False)))
            except Exception:  # the tap must never break reception
                log.exception("recording tap failed")
        original_put(item, block, timeout)

    q.put = put  # type: ignore[method-assign]
    return True


class PacketRecorder:
    """Muxes VP8 frames into a WebM file on its own thread; starts at the first keyframe."""

    def __init__(self, path: Path, *, label: str = "") -> None:
        """Record into `path` (its directory is created)."""
        self.path = path
        self._label = label
        self._queue: queue.Queue[tuple[bytes, int] | None] = queue.Queue(maxsize=QUEUE_FRAMES)
        self._thread = threading.Thread(target=self._run, name=f"rec-{label}", daemon=True)
        self._frames = 0
        self._first_ts: int | None = None
        self._last_ts: int | None = None
        self._skip_to_keyframe = False
        self._error: str | None = None
        self._started = False

    @property
    def frames(self) -> int:
        """Frames written so far."""
        return self._frames

    @property
    def error(self) -> str | None:
        """Why recording failed, if it did."""
        return self._error

    def start(self) -> None:
        """Start the writer thread."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._started = True
        self._thread.start()

    def feed(self, data: bytes, rtp_ts: int, broken: bool = False) -> None:
        """Queue one encoded frame (called on the event loop; never blocks).

        After a `broken` frame nothing is written until the next keyframe, so the file never
        holds frames that reference lost data.
        """
        if broken and vp8_keyframe_size(data) is None:
            self._skip_to_keyframe = True
            return
        if self._skip_to_keyframe:
            if vp8_keyframe_size(data) is None:
                return
            self._skip_to_keyframe = False
        try:
            self._queue.put_nowait((data, rtp_ts))
        except queue.Full:
            self._skip_to_keyframe = True
            log.warning(
                "[%s] recorder behind; dropping frames until the next keyframe", self._label
            )

    def stop(self, *, timeout: float = 10.0) -> RecordingResult:
        """Finish the file and describe it (blocking: run it in a thread)."""
        if self._started:
            try:
                self._queue.put(None, timeout=timeout)
            except queue.Full:
                log.error("[%s] recorder thread stuck; file may be incomplete", self._label)
            self._thread.join(timeout)
        size = self.path.stat().st_size if self.path.exists() else 0
        digest = _sha256(self.path) if size else None
        duration = 0.0
        if self._first_ts is not None and self._last_ts is not None and self._frames > 1:
            span = (self._last_ts - self._first_ts) / RTP_VIDEO_CLOCK
            duration = span + span / (self._frames - 1)
        return RecordingResult(self.path, size, duration, self._frames, digest)

    def _run(self) -> None:
        container: Any = None
        stream: Any = None
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    break
                data, ts = item
                keyframe = vp8_keyframe_size(data)
                if container is None:
                    if keyframe is None:
                        continue
                    container = av.open(str(self.path), "w", format="webm", options=WEBM_OPTIONS)
                    stream = container.add_stream("libvpx")
                    stream.width, stream.height = keyframe
                    stream.pix_fmt = "yuv420p"
                    self._first_ts = ts
                if self._last_ts is not None and ts <= self._last_ts:
                    continue  # a late frame would break the muxer's monotonic timestamps
                packet = av.Packet(data)
                packet.pts = packet.dts = ts - (self._first_ts or 0)
                packet.time_base = _TIME_BASE
                packet.stream = stream
                packet.is_keyframe = keyframe is not None
                container.mux(packet)
                self._last_ts = ts
                self._frames += 1
        except (av.FFmpegError, OSError, ValueError) as exc:
            self._error = f"{exc.__class__.__name__}: {exc}"
            log.error("[%s] recording failed: %s", self._label, self._error)
            self._drain()
        finally:
            if container is not None:
                try:
                    container.close()
                except (av.FFmpegError, OSError) as exc:
                    self._error = self._error or f"closing failed: {exc}"
                    log.error("[%s] closing recording failed: %s", self._label, exc)

    def _drain(self) -> None:
        while self._queue.get() is not None:
            pass


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def encode_jpeg(frame: av.VideoFrame, *, quality: int = 3) -> bytes:
    """JPEG bytes of `frame` (MJPEG qscale `quality`, 2 best … 31 worst); CPU work: use a thread."""
    ctx: Any = av.CodecContext.create("mjpeg", "w")
    ctx.width, ctx.height = frame.width, frame.height
    ctx.pix_fmt = "yuvj420p"
    ctx.time_base = fractions.Fraction(1, 25)
    ctx.qscale = quality
    image = frame.reformat(format="yuvj420p")
    image.pts = 0
    return b"".join(bytes(p) for p in [*ctx.encode(image), *ctx.encode(None)])
