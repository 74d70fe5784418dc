"""The reference client's outbox (monitor/site_outbox.py): ids and times fixed when added,
pending kept across a reopen (a crash), done never sent again."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.site_outbox import Outbox


def test_pending_survive_a_reopen_with_their_ids_and_times(tmp_path: Path) -> None:
    path = tmp_path / "o.jsonl"
    box = Outbox(path)
    a = box.add({"type": "shutdown", "scope": "plant", "reason": "r"})
    b = box.add({"type": "resume", "event_id": "own-id", "ts": "2026-03-01T08:00:00+08:00"})
    assert b["event_id"] == "own-id"
    assert a["ts"].endswith(("+00:00", "Z")) or "+" in a["ts"] or "-" in a["ts"][19:]
    box.done(a["event_id"])
    box.done(a["event_id"])  # twice: harmless
    again = Outbox(path)
    assert again.pending() == [b]
    again.done("own-id")
    assert Outbox(path).pending() == []
    assert path.read_text() == ""  # compacted when nothing is pending
    with pytest.raises(ValueError, match="type"):
        again.add({"scope": "plant"})
