"""The committed JSON Schemas are the ones the models generate (`safewatch protocol-schema`)."""

from __future__ import annotations

import json

import jsonschema_rs

from monitor.protocol_schema import MESSAGES, SCHEMA_DIR, generated


def test_committed_schemas_are_generated_from_the_models() -> None:
    stale = [
        name
        for name, text in generated().items()
        if not (SCHEMA_DIR / name).is_file() or (SCHEMA_DIR / name).read_text("utf-8") != text
    ]
    assert not stale, f"run `safewatch protocol-schema`: {stale} differ from the models"
    assert {p.name for p in SCHEMA_DIR.iterdir()} == set(generated())


def test_every_schema_is_a_valid_draft_2020_12_schema() -> None:
    for m in MESSAGES:
        schema = json.loads((SCHEMA_DIR / f"{m.name}.schema.json").read_text("utf-8"))
        jsonschema_rs.Draft202012Validator(schema)  # raises on an invalid schema
    event = json.loads((SCHEMA_DIR / "event.schema.json").read_text("utf-8"))
    v = jsonschema_rs.Draft202012Validator(event)
    assert v.is_valid({"event_id": "e1", "ts": "2026-03-01T08:00:00+08:00", "type": "resume"})
    assert not v.is_valid({"event_id": "e1", "ts": "2026-03-01T08:00:00", "type": "resume"})
    assert not v.is_valid({"event_id": "e 1", "ts": "2026-03-01T08:00:00Z", "type": "resume"})
    assert not v.is_valid({"event_id": "e1", "ts": "2026-03-01T08:00:00Z", "type": "nope"})
