"""Forwarding the site's encoded VP8 frames to viewers: no decode, no re-encode per viewer.

aiortc's `MediaRelay` hands decoded frames to each viewer's sender, which encodes them again
(~16 % of a core per viewer here). A viewer track that yields `av.Packet`s instead is packetized
as is. A joining viewer waits for a keyframe, and picture-loss reports from viewers are passed
on to the site (rate-limited), since only the site's encoder can produce one.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import time
from collections.abc import Callable
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from monitor.video.recorder import vp8_keyframe_size

log = logging.getLogger(__name__)

_TIME_BASE = fractions.Fraction(1, 90000)
#: Two seconds at 15 fps; a viewer further behind starts again from the next keyframe.
QUEUE_FRAMES = 30
KEYFRAME_INTERVAL_S = 0.5
_pending: set[asyncio.Future[None]] = set()


class ForwardTrack(MediaStreamTrack):
    """One viewer's copy of the site's encoded video."""

    kind = "video"

    def __init__(self, fanout: EncodedFanout) -> None:
        """Attach to `fanout`; frames flow from the next keyframe on."""
        super().__init__()
        self._fanout = fanout
        self._queue: asyncio.Queue[tuple[bytes, int] | None] = asyncio.Queue(QUEUE_FRAMES)
        self._need_keyframe = True
        self.frames = 0

    def push(self, data: bytes, rtp_ts: int, keyframe: bool, broken: bool = False) -> None:
        """Queue one encoded frame (on the event loop); after a broken one, wait for a keyframe."""
        if broken and not keyframe:
            self._need_keyframe = True
        if self._need_keyframe and not keyframe:
            return
        if self._queue.full():
            while not self._queue.empty():
                self._queue.get_nowait()
            self._need_keyframe = True
            self._fanout.request_keyframe()
            if not keyframe:
                return
        self._need_keyframe = False
        self._queue.put_nowait((data, rtp_ts))

    async def recv(self) -> av.Packet[Any]:
        """The next encoded frame as a packet aiortc's VP8 sender packetizes without encoding."""
        if self.readyState != "live":
            raise MediaStreamError
        item = await self._queue.get()
        if item is None:
            raise MediaStreamError
        data, rtp_ts = item
        packet = av.Packet(data)
        packet.pts = rtp_ts
        packet.time_base = _TIME_BASE
        self.frames += 1
        return packet

    def stop(self) -> None:
        """End the track and detach from the fan-out."""
        self._fanout.unsubscribe(self)
        if self.readyState == "live":
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(None)
        super().stop()


class KeyframeRequester:
    """Asks the site for a keyframe, at most once every KEYFRAME_INTERVAL_S."""

    def __init__(self, ask: Callable[[], None]) -> None:
        """`ask()` sends the request (a PLI on the site connection)."""
        self._ask = ask
        self._last = 0.0

    def __call__(self) -> None:
        """Request a keyframe unless one was requested just now."""
        now = time.monotonic()
        if now - self._last >= KEYFRAME_INTERVAL_S:
            self._last = now
            log.debug("keyframe requested from the site")
            self._ask()


class EncodedFanout:
    """Copies each encoded site frame to every viewer's `ForwardTrack`."""

    def __init__(self, request_keyframe: Callable[[], None]) -> None:
        """`request_keyframe()` asks the site for a keyframe (rate-limited by the caller)."""
        self._tracks: set[ForwardTrack] = set()
        self.request_keyframe = request_keyframe

    def subscribe(self) -> ForwardTrack:
        """A new viewer track; the site is asked for a keyframe so it can start at once."""
        track = ForwardTrack(self)
        self._tracks.add(track)
        self.request_keyframe()
        return track

    def unsubscribe(self, track: ForwardTrack) -> None:
        """Stop copying to `track`."""
        self._tracks.discard(track)

    def feed(self, data: bytes, rtp_ts: int, broken: bool = False) -> None:
        """One encoded frame from the site (VP8)."""
        if not self._tracks:
            return
        keyframe = vp8_keyframe_size(data) is not None
        for track in self._tracks:
            track.push(data, rtp_ts, keyframe, broken)

    def close(self) -> None:
        """End every viewer track."""
        for track in list(self._tracks):
            track.stop()


def forward_viewer_pli(sender: Any, fanout: EncodedFanout) -> None:
    """Route a viewer's picture-loss requests to the site (the sender cannot encode a keyframe)."""
    sender._send_keyframe = fanout.request_keyframe


def site_pli(receiver: Any) -> Callable[[], None]:
    """A function that sends a PLI for every SSRC the site's video receiver hears."""

    def ask() -> None:
        send = getattr(receiver, "_send_rtcp_pli", None)
        if send is None:
            return
        for source in receiver.getSynchronizationSources():
            task = asyncio.ensure_future(send(source.source))
            _pending.add(task)
            task.add_done_callback(_pending.discard)

    return ask
