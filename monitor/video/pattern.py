"""Test pattern track: moving bars plus the capture time as a block code and as text.

The top band of each frame carries 64 black/white blocks (two rows of 32): 48 bits of the capture
time in milliseconds since the Unix epoch and a 16-bit CRC. A receiver on a clock it shares with
the sender reads them back (`read_capture_ms`) and gets glass-to-glass latency per frame.
"""

from __future__ import annotations

import asyncio
import binascii
import fractions
import os
import random
import time
from datetime import UTC, datetime

import av
from aiortc.mediastreams import MediaStreamError, VideoStreamTrack

BITS = 64
COLUMNS = 32
ROWS = BITS // COLUMNS
BLACK, WHITE, GREY = 16, 235, 128

#: 5×7 glyphs, one string of five 0/1 per row.
_FONT: dict[str, tuple[str, ...]] = {
    "0": ("01110", "10001", "10011", "10101", "11001", "10001", "01110"),
    "1": ("00100", "01100", "00100", "00100", "00100", "00100", "01110"),
    "2": ("01110", "10001", "00001", "00010", "00100", "01000", "11111"),
    "3": ("11110", "00001", "00001", "01110", "00001", "00001", "11110"),
    "4": ("00010", "00110", "01010", "10010", "11111", "00010", "00010"),
    "5": ("11111", "10000", "11110", "00001", "00001", "10001", "01110"),
    "6": ("00110", "01000", "10000", "11110", "10001", "10001", "01110"),
    "7": ("11111", "00001", "00010", "00100", "01000", "01000", "01000"),
    "8": ("01110", "10001", "10001", "01110", "10001", "10001", "01110"),
    "9": ("01110", "10001", "10001", "01111", "00001", "00010", "01100"),
    ":": ("00000", "01100", "01100", "00000", "01100", "01100", "00000"),
    ".": ("00000", "00000", "00000", "00000", "00000", "01100", "01100"),
    "-": ("00000", "00000", "00000", "11111", "00000", "00000", "00000"),
    "+": ("00000", "00100", "00100", "11111", "00100", "00100", "00000"),
    " ": ("00000",) * 7,
}
_FONT_W, _FONT_H = 5, 7


#: Maps random bytes to low-amplitude noise around mid grey (a proxy for sensor noise).
_NOISE = bytes(112 + i % 32 for i in range(256))
_DETAIL = bytes(48 + i % 160 for i in range(256))


def _texture(width: int, height: int, *, seed: int) -> bytes:
    """Fixed random detail in 4×4 blocks (deterministic for a given size)."""
    rng = random.Random(seed)
    small_w = width // 4
    rows = []
    for _ in range(height // 4 + 1):
        small = rng.randbytes(small_w).translate(_DETAIL)
        row = bytes(b for b in small for _ in range(4))
        rows.extend([row] * 4)
    return b"".join(rows[:height])


def encode_bits(capture_ms: int) -> list[int]:
    """The 64 bits drawn for `capture_ms`: 48 bits of time then a 16-bit CRC of those 6 bytes."""
    raw = (capture_ms & ((1 << 48) - 1)).to_bytes(6, "big")
    word = int.from_bytes(raw, "big") << 16 | binascii.crc_hqx(raw, 0xFFFF)
    return [(word >> (BITS - 1 - i)) & 1 for i in range(BITS)]


def decode_bits(bits: list[int]) -> int | None:
    """Capture time in ms from 64 bits, or None when the CRC does not match."""
    word = 0
    for bit in bits:
        word = word << 1 | bit
    raw = (word >> 16).to_bytes(6, "big")
    if binascii.crc_hqx(raw, 0xFFFF) != word & 0xFFFF:
        return None
    return int.from_bytes(raw, "big")


def read_capture_ms(frame: av.VideoFrame) -> int | None:
    """Read the capture time drawn by `PatternTrack` from a decoded frame (None if unreadable)."""
    if frame.format.name not in ("yuv420p", "yuvj420p"):
        frame = frame.reformat(format="yuv420p")
    plane = frame.planes[0]
    stride = plane.line_size
    data = bytes(plane)
    block = frame.width // COLUMNS
    if block < 4 or frame.height < block * ROWS:
        return None
    bits = []
    span = range(-2, 2) if block >= 8 else range(0, 1)
    for row in range(ROWS):
        y0 = row * block + block // 2
        for col in range(COLUMNS):
            x0 = col * block + block // 2
            total = sum(data[(y0 + dy) * stride + x0 + dx] for dy in span for dx in span)
            bits.append(1 if total > len(span) ** 2 * GREY else 0)
    return decode_bits(bits)


class PatternRenderer:
    """Draws pattern frames into yuv420p buffers without numpy (bytes slicing only)."""

    def __init__(
        self, width: int = 640, height: int = 480, *, scale: int = 3, busy: bool = True
    ) -> None:
        """Precompute the background for a `width`×`height` frame.

        `busy` adds what makes a camera expensive to encode: fine detail in motion (a scrolling
        texture) and sensor-like noise (a box of fresh noise every frame).
        """
        if width < COLUMNS * 4 or height < 120 or width % 2 or height % 2:
            raise ValueError("pattern needs an even size of at least 128×120")
        self.width, self.height, self.scale = width, height, scale
        self.busy = busy
        self.block = width // COLUMNS
        probe = av.VideoFrame(width, height, "yuv420p")
        self._strides = [p.line_size for p in probe.planes]
        ys = self._strides[0]
        # Eight vertical grey ramps below the code band; the band itself starts black.
        row = bytearray(ys)
        for x in range(width):
            row[x] = 40 + (x * 8 // width) * 24
        self._background = bytearray(bytes(row) * height)
        self._band = self.block * ROWS
        self._background[: self._band * ys] = bytes([BLACK]) * (self._band * ys)
        self._texture_top = min(height, self.block * ROWS + (_FONT_H + 4) * scale + 8)
        self._texture = _texture(2 * width, height, seed=width * height) if busy else b""
        cw, ch = self._strides[1], height // 2
        # Neutral chroma over the code band and the text line keeps the blocks pure black/white.
        neutral = (self._band + (_FONT_H + 4) * scale + 8) // 2
        u_row = bytes(90 + (x * 6 // (width // 2)) * 16 for x in range(cw))
        v_row = bytes(170 - (x * 6 // (width // 2)) * 14 for x in range(cw))
        grey = bytes([GREY]) * cw
        self._u = grey * neutral + u_row * (ch - neutral)
        self._v = grey * neutral + v_row * (ch - neutral)

    def render(self, index: int, capture_ms: int) -> av.VideoFrame:
        """Frame number `index`, stamped with `capture_ms`."""
        ys, w = self._strides[0], self.width
        y = bytearray(self._background)
        if self.busy:
            self._scroll(y, index)
        bar_x = (index * 8) % (w - 24)
        white_bar = bytes([WHITE]) * 24
        for line in range(self._band, self.height):
            start = line * ys + bar_x
            y[start : start + 24] = white_bar
        bits = encode_bits(capture_ms)
        for row in range(ROWS):
            line_bytes = bytearray([BLACK]) * w
            for col in range(COLUMNS):
                if bits[row * COLUMNS + col]:
                    x0 = col * self.block
                    line_bytes[x0 : x0 + self.block] = bytes([WHITE]) * self.block
            for line in range(row * self.block, (row + 1) * self.block):
                y[line * ys : line * ys + w] = line_bytes
        stamp = datetime.fromtimestamp(capture_ms / 1000, UTC).astimezone()
        text = stamp.strftime("%Y-%m-%d %H:%M:%S.") + f"{capture_ms % 1000:03d}"
        self._draw_text(y, text, x=8, y0=self._band + 8)
        frame = av.VideoFrame(w, self.height, "yuv420p")
        frame.planes[0].update(bytes(y))
        frame.planes[1].update(self._u)
        frame.planes[2].update(self._v)
        return frame

    def _scroll(self, y: bytearray, index: int) -> None:
        ys, w, tw = self._strides[0], self.width, 2 * self.width
        offset = (index * 4) % w
        tex = self._texture
        for line in range(self._texture_top, self.height):
            start = line * tw + offset
            y[line * ys : line * ys + w] = tex[start : start + w]
        box_w, box_h = w // 4, (self.height - self._texture_top) // 3
        x0, y0 = (w - box_w) // 2, self._texture_top + box_h
        noise = os.urandom(box_w * box_h).translate(_NOISE)
        for k in range(box_h):
            row = (y0 + k) * ys + x0
            y[row : row + box_w] = noise[k * box_w : (k + 1) * box_w]

    def _draw_text(self, y: bytearray, text: str, *, x: int, y0: int) -> None:
        ys, s = self._strides[0], self.scale
        width = len(text) * (_FONT_W + 1) * s
        if x + width > self.width or y0 + (_FONT_H + 2) * s > self.height:
            return
        for gy in range(-1, _FONT_H + 1):
            line = bytearray([BLACK]) * width
            if 0 <= gy < _FONT_H:
                for i, ch in enumerate(text):
                    glyph = _FONT.get(ch, _FONT[" "])[gy]
                    for gx, on in enumerate(glyph):
                        if on == "1":
                            px = (i * (_FONT_W + 1) + gx) * s
                            line[px : px + s] = bytes([WHITE]) * s
            for dy in range(s):
                start = (y0 + (gy + 1) * s + dy) * ys + x
                y[start : start + width] = line


class PatternTrack(VideoStreamTrack):
    """A live video track of `PatternRenderer` frames at `fps`, stamped at capture time."""

    def __init__(self, width: int = 640, height: int = 480, fps: int = 15) -> None:
        """Create a pattern of `width`×`height` at `fps` frames per second."""
        super().__init__()
        self._renderer = PatternRenderer(width, height)
        self._fps = fps
        self._index = 0
        self._t0: float | None = None
        self._time_base = fractions.Fraction(1, 90000)

    async def recv(self) -> av.VideoFrame:
        """Wait for the next frame slot, then draw the frame with the time of now."""
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        slot = self._index
        due = self._t0 + slot / self._fps
        if due > now:
            await asyncio.sleep(due - now)
        elif now - due > 1 / self._fps:
            # Fell behind (CPU busy): skip the missed slots like a camera would.
            slot = int((now - self._t0) * self._fps)
        capture_ms = int(time.time() * 1000)
        frame = self._renderer.render(slot, capture_ms)
        frame.pts = slot * 90000 // self._fps
        frame.time_base = self._time_base
        self._index = slot + 1
        return frame
