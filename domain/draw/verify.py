"""Verify a draw document (the verifier module's rules, one source for the script and the CLI)
and rebuild a published frozen record for the draw step."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.draw import verifier
from domain.draw.canonical import paused_gc
from domain.draw.engine import ALGORITHM, Frozen, Record, freeze
from domain.draw.public_value import PublicSource
from domain.draw.snapshot import (
    ENTERPRISE_FIELDS,
    ENTERPRISE_TYPES,
    OFFICER_FIELDS,
    OFFICER_TYPES,
    check_snapshot,
    rules_from_json,
)
from domain.errors import ValidationFailed
from domain.i18n import msg


def verify_bytes(data: bytes, frozen: bytes | None = None) -> str | None:
    """None when every byte re-derives (and agrees with the published frozen record, if given);
    otherwise the first problem, exactly as the stdlib script reports it."""
    with paused_gc():
        return verifier.verify(data, frozen)


def _when(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def record_of(doc: dict[str, Any]) -> Record:
    """The v2 record members of a parsed (and checked) frozen document."""
    src = doc["public_source"]
    return Record(
        public_source=PublicSource(
            src["kind"], src["name"], src["round"], _when(src["read_after"])
        ),
        frozen_at=_when(doc["frozen_at"]),
        attempt=doc["attempt"],
        repeat=doc["repeat"],
        witnesses=doc["witnesses"],
    )


def load_frozen(data: bytes) -> Frozen:
    """Rebuild a frozen record from its published bytes, refusing any that do not re-derive."""
    with paused_gc():
        try:
            doc = verifier.parse(data)
            version = verifier.check(doc, frozen_only=True)
        except ValueError as exc:
            raise ValidationFailed(msg("draw.frozen_invalid", exc=exc)) from exc
        if version != ALGORITHM or "secret" in doc:
            raise ValidationFailed(msg("draw.not_frozen_record", algorithm=ALGORITHM))
        fz = freeze(
            plan_id=doc["plan_id"],
            period=doc["period"],
            rules=rules_from_json(doc["rules"]),
            enterprise_rows=check_snapshot(
                doc["enterprises"], ENTERPRISE_FIELDS, ENTERPRISE_TYPES, "enterprises"
            ),
            officer_rows=check_snapshot(doc["officers"], OFFICER_FIELDS, OFFICER_TYPES, "officers"),
            commitment=doc["commitment"],
            record=record_of(doc),
        )
        if fz.document_bytes() + b"\n" != data:
            raise ValidationFailed(msg("draw.frozen_altered"))
        return fz
