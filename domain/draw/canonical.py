"""Canonical JSON (RFC 8785 subset), SHA-256 helpers and a fast HMAC-SHA256 for draw documents."""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from domain.errors import ValidationFailed
from domain.i18n import msg

_BLOCK = 64
_IPAD = bytes(0x36 for _ in range(_BLOCK))
_OPAD = bytes(0x5C for _ in range(_BLOCK))


def canonical_json(value: Any) -> bytes:
    """Encode `value` canonically: UTF-8, sorted keys, no whitespace (RFC 8785 subset)."""
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def compose_object(pieces: Iterable[tuple[str, bytes]]) -> bytes:
    """Canonical bytes of an object whose member values are already canonical bytes."""
    parts = sorted(pieces)
    return b"{" + b",".join(canonical_json(key) + b":" + encoded for key, encoded in parts) + b"}"


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: a draw allocates millions of acyclic objects and
    generation-2 sweeps over them would triple its running time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def _refuse_float(text: str) -> NoReturn:
    raise ValidationFailed(msg("draw.doc_fraction", text=text))


def loads_strict(data: bytes) -> Any:
    """Parse a draw document; refuse floats, NaN and Infinity, and non-UTF-8 bytes."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(msg("draw.doc_encoding", exc=exc)) from exc
    try:
        return json.loads(text, parse_float=_refuse_float, parse_constant=_refuse_float)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(msg("draw.doc_not_json", exc=exc)) from exc


class KeyedHash:
    """HMAC-SHA256 under one key (RFC 2104), with the padded key states hashed once."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        """Prepare HMAC-SHA256 with `key` (at most 64 bytes, as every draw key is 32)."""
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        padded = key.ljust(_BLOCK, b"\x00")
        self._inner = hashlib.sha256(bytes(a ^ b for a, b in zip(padded, _IPAD, strict=True)))
        self._outer = hashlib.sha256(bytes(a ^ b for a, b in zip(padded, _OPAD, strict=True)))

    def digest(self, message: bytes) -> bytes:
        """HMAC-SHA256(key, message)."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def many(self, prefix: bytes, suffixes: Iterable[str]) -> list[bytes]:
        """HMAC of `prefix ‖ UTF-8(s)` for each s, in order."""
        inner_base, outer_base = self._inner, self._outer
        out: list[bytes] = []
        append = out.append
        for suffix in suffixes:
            inner = inner_base.copy()
            inner.update(prefix)
            inner.update(suffix.encode("utf-8"))
            outer = outer_base.copy()
            outer.update(inner.digest())
            append(outer.digest())
        return out
