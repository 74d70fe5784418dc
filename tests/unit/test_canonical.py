"""What "the same event" means (monitor/canonical.py, docs/protocol.md "Event ids and retries")."""

from __future__ import annotations

import json

from monitor.canonical import canonical_digest
from monitor.schemas import EVENT_ADAPTER

BASE = {
    "event_id": "e-1",
    "ts": "2026-03-01T08:00:00+08:00",
    "type": "special_op_start",
    "op_id": "HW-1",
    "op_type": "hot_work",
    "grade": "1",
    "permit_no": "P-1",
    "valid_from": "2026-03-01T08:00:00+08:00",
    "valid_to": "2026-03-01T12:00:00+08:00",
    "location": "罐区",
    "guardian": "李四",
    "guardian_cert": "C-1",
    "gas_test": {"o2_pct": 20.9, "lel_pct": 0, "gas": "CH4"},
}


def digest(payload: str | dict) -> bytes:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return canonical_digest(EVENT_ADAPTER.validate_json(text))


def test_rebuilt_json_is_the_same_event() -> None:
    same = dict(reversed(list(BASE.items())))
    same["ts"] = "2026-03-01T00:00:00Z"
    same["gas_test"] = {"gas": "CH4", "lel_pct": 0.0, "o2_pct": 20.9}
    same["vendor_extra"] = {"retry": 2}  # unknown fields do not count
    same["oxygen_enriched"] = False  # an optional field sent with its default
    spaced = json.dumps(same, indent=4, ensure_ascii=True)
    assert digest(spaced) == digest(BASE)


def test_a_changed_field_is_another_event() -> None:
    for field, value in [
        ("location", "罐区 "),
        ("grade", "2"),
        ("ts", "2026-03-01T08:00:01+08:00"),
        ("gas_test", {"o2_pct": 20.8, "lel_pct": 0, "gas": "CH4"}),
        ("seq", 1),
    ]:
        assert digest({**BASE, field: value}) != digest(BASE), field
