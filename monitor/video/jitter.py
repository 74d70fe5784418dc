"""A jitter buffer that hands over a video frame as soon as its last packet (RTP marker) is in.

aiortc's buffer releases a frame only when the first packet of the next frame arrives, which
adds one frame interval (67 ms at 15 fps) at every hop; a relay hop would pay it twice. Frames
that follow lost packets, or that lack their start, are flagged `broken` so that what keeps or
forwards encoded frames (recorder, viewers) can wait for the next keyframe instead.
"""

from __future__ import annotations

import logging
from typing import Any

from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.utils import uint16_add

log = logging.getLogger(__name__)

VIDEO_CAPACITY = 512


class MarkedFrame(JitterFrame):
    """A complete frame; `broken` when packets before it were lost or its start is missing."""

    def __init__(self, data: bytes, timestamp: int, *, broken: bool) -> None:
        """Wrap the frame's bytes."""
        super().__init__(data=data, timestamp=timestamp)
        self.broken = broken


def _vp8_starts_frame(packet: Any) -> bool:
    """Whether an RTP packet's VP8 payload descriptor marks the start of partition 0."""
    payload = packet.payload
    return bool(payload) and bool(payload[0] & 0x10) and (payload[0] & 0x07) == 0


class MarkerJitterBuffer(JitterBuffer):
    """Releases a contiguous run of packets ending in a marker bit without waiting."""

    def __init__(self, capacity: int = VIDEO_CAPACITY) -> None:
        """A video jitter buffer of `capacity` packets (a power of two)."""
        super().__init__(capacity=capacity, is_video=True)
        self._last_seq: int | None = None

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        packets: list[Any] = []
        timestamp = None
        origin = self._origin
        if origin is None:
            return None
        for count in range(self.capacity):
            packet = self._packets[(origin + count) % self._capacity]
            if packet is None:
                return None
            if timestamp is None:
                timestamp = packet.timestamp
            elif packet.timestamp != timestamp:
                # The previous frame is complete although its marker was lost.
                self.remove(count)
                return self._frame(packets, timestamp)
            packets.append(packet)
            if packet.marker:
                self.remove(count + 1)
                return self._frame(packets, timestamp)
        return None

    def _frame(self, packets: list[Any], timestamp: int) -> MarkedFrame:
        first = packets[0].sequence_number
        gap = self._last_seq is not None and first != uint16_add(self._last_seq, 1)
        self._last_seq = packets[-1].sequence_number
        data = b"".join(p._data for p in packets)
        return MarkedFrame(data, timestamp, broken=gap or not _vp8_starts_frame(packets[0]))


def use_marker_jitter_buffer(receiver: Any) -> bool:
    """Give an aiortc video receiver a `MarkerJitterBuffer` (before any packet arrives)."""
    name = "_RTCRtpReceiver__jitter_buffer"
    if not isinstance(getattr(receiver, name, None), JitterBuffer):
        log.warning("aiortc internals changed: keeping its own jitter buffer")
        return False
    setattr(receiver, name, MarkerJitterBuffer())
    return True
