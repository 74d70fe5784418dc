"""A site's outbox: operation events written to a file before they are sent, with their final
`event_id` and `ts`, and marked done at their PUBACK — so a crash or a long outage loses nothing
and a resend carries the same id (docs/protocol.md, "Reference client" and "Replay after an
outage"). One JSON object per line: {"add": event} or {"done": event_id}."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class Outbox:
    """Append-only file of events to send; pending ones in the order they were added."""

    def __init__(self, path: str | Path) -> None:
        """Open (or create) the outbox; a file with nothing pending is compacted."""
        self.path = Path(path)
        self._pending: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                entry = json.loads(line)
                if "add" in entry:
                    self._pending[entry["add"]["event_id"]] = entry["add"]
                elif "done" in entry:
                    self._pending.pop(entry["done"], None)
        if not self._pending and self.path.exists():
            self.path.write_text("", encoding="utf-8")

    def add(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Give the event its id and time (kept if present) and write it down before sending."""
        if not isinstance(event.get("type"), str) or not event["type"]:
            raise ValueError("an operation event needs a 'type' (e.g. shutdown, resume_request)")
        out = dict(event)
        out.setdefault("event_id", uuid.uuid4().hex)
        out.setdefault("ts", datetime.now(UTC).astimezone().isoformat(timespec="milliseconds"))
        self._append({"add": out})
        self._pending[out["event_id"]] = out
        return out

    def pending(self) -> list[dict[str, Any]]:
        """Events not yet acknowledged by the broker, oldest first."""
        return list(self._pending.values())

    def done(self, event_id: str) -> None:
        """The broker has the event (PUBACK): never send it again."""
        if self._pending.pop(event_id, None) is not None:
            self._append({"done": event_id})

    def _append(self, entry: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
