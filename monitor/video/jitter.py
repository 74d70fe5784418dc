"""A jitter buffer that hands over a video frame as soon as its last packet (RTP marker) is in.

aiortc's buffer releases a frame only when the first packet of the next frame arrives, which
adds one frame interval (67 ms at 15 fps) at every hop; a relay hop would pay it twice.
"""

from __future__ import annotations

import logging
from typing import Any

from aiortc.jitterbuffer import JitterBuffer, JitterFrame

log = logging.getLogger(__name__)

VIDEO_CAPACITY = 512


class MarkerJitterBuffer(JitterBuffer):
    """Releases a contiguous run of packets ending in a marker bit without waiting."""

    def __init__(self, capacity: int = VIDEO_CAPACITY) -> None:
        """A video jitter buffer of `capacity` packets (a power of two)."""
        super().__init__(capacity=capacity, is_video=True)

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
                return JitterFrame(data=b"".join(p._data for p in packets), timestamp=timestamp)
            packets.append(packet)
            if packet.marker:
                self.remove(count + 1)
                return JitterFrame(data=b"".join(p._data for p in packets), timestamp=timestamp)
        return None


def use_marker_jitter_buffer(receiver: Any) -> bool:
    """Give an aiortc video receiver a `MarkerJitterBuffer` (before any packet arrives)."""
    name = "_RTCRtpReceiver__jitter_buffer"
    if not isinstance(getattr(receiver, name, None), JitterBuffer):
        log.warning("aiortc internals changed: keeping its own jitter buffer")
        return False
    setattr(receiver, name, MarkerJitterBuffer())
    return True
