"""The canonical content of a parsed site message: what "the same event" means.

A gateway that retries may rebuild its JSON (other key order, other spacing, `\\u4e2d` for `中`,
`20` for `20.0`, `Z` for `+00:00`). Two messages are the same when their canonical forms are
equal (docs/protocol.md, "Event ids and retries"):

- only the fields the protocol defines for the message's type count (unknown fields are ignored
  by the service, so a retry may add or change them); an optional field that is absent equals the
  same field sent with its default (`null`, `false`, `0`, `[]`);
- timestamps compare as instants (`2026-03-01T08:00:00+08:00` = `2026-03-01T00:00:00Z`);
- numbers compare by value (`20` = `20.0`), strings by their exact characters.

This runs in the shared processing pipeline (monitor/processor.py), so every way a site reports
(MQTT, HTTPS) is judged by the same rule.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel


def canonical_form(body: BaseModel) -> dict[str, Any]:
    """The parsed message reduced to the fields that matter, in a comparable form."""
    return {k: _plain(v) for k, v in body.model_dump(mode="python").items()}


def canonical_digest(body: BaseModel) -> bytes:
    """A 16-byte digest of the canonical form (the exactly-once key of an event)."""
    text = json.dumps(
        canonical_form(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)
