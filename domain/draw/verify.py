"""Re-derive a draw document from its own inputs and report the first difference, if any."""

from __future__ import annotations

from typing import Any

from domain.draw.canonical import loads_strict, paused_gc
from domain.draw.engine import ALGORITHM, Frozen, commitment_of, draw, freeze, parse_secret
from domain.draw.snapshot import (
    ENTERPRISE_FIELDS,
    ENTERPRISE_TYPES,
    OFFICER_FIELDS,
    OFFICER_TYPES,
    check_snapshot,
    rules_from_json,
)
from domain.errors import ValidationFailed

FROZEN_KEYS = frozenset(
    {
        "algorithm",
        "plan_id",
        "period",
        "commitment",
        "hashes",
        "rules",
        "enterprises",
        "officers",
        "eligibility",
    }
)
DRAWN_KEYS = FROZEN_KEYS | {"secret", "public_value", "seed", "result"}
#: The order in which differences are looked for: integrity first, then the derivation.
CHECK_ORDER = (
    "algorithm",
    "plan_id",
    "period",
    "hashes",
    "commitment",
    "secret",
    "public_value",
    "seed",
    "eligibility",
    "result",
    "rules",
    "enterprises",
    "officers",
)


def rederive(data: bytes) -> tuple[Any, bytes]:
    """Parse a frozen or drawn document and return (parsed, canonical bytes re-derived from it)."""
    with paused_gc():
        return _rederive(data)


def _rederive(data: bytes) -> tuple[Any, bytes]:
    doc = loads_strict(data)
    if not isinstance(doc, dict):
        raise ValidationFailed("the document is not a JSON object")
    keys = set(doc)
    if keys not in (FROZEN_KEYS, DRAWN_KEYS):
        missing = sorted((DRAWN_KEYS if "secret" in keys else FROZEN_KEYS) - keys)
        extra = sorted(keys - DRAWN_KEYS)
        raise ValidationFailed(f"document keys: missing {missing}, unexpected {extra}")
    if doc["algorithm"] != ALGORITHM:
        raise ValidationFailed(f"algorithm: {doc['algorithm']!r} is not {ALGORITHM!r}")
    for name in ("plan_id", "period", "commitment"):
        if not isinstance(doc[name], str):
            raise ValidationFailed(f"{name}: must be a string")
    rules = rules_from_json(doc["rules"])
    ents = check_snapshot(doc["enterprises"], ENTERPRISE_FIELDS, ENTERPRISE_TYPES, "enterprises")
    offs = check_snapshot(doc["officers"], OFFICER_FIELDS, OFFICER_TYPES, "officers")
    if "secret" not in doc:
        fz = freeze(
            plan_id=doc["plan_id"],
            period=doc["period"],
            rules=rules,
            enterprise_rows=ents,
            officer_rows=offs,
            commitment=doc["commitment"],
        )
        return doc, fz.document_bytes()
    if not isinstance(doc["secret"], str) or not isinstance(doc["public_value"], str):
        raise ValidationFailed("secret and public_value must be strings")
    secret = parse_secret(doc["secret"])
    fz = freeze(
        plan_id=doc["plan_id"],
        period=doc["period"],
        rules=rules,
        enterprise_rows=ents,
        officer_rows=offs,
        commitment=commitment_of(secret),
    )
    return doc, draw(fz, secret=secret, public_value=doc["public_value"]).document_bytes()


def load_frozen(data: bytes) -> Frozen:
    """Rebuild a frozen record from its published bytes, refusing any that do not re-derive."""
    with paused_gc():
        doc = loads_strict(data)
        if not isinstance(doc, dict) or set(doc) != FROZEN_KEYS:
            raise ValidationFailed("not a frozen draw record")
        if doc["algorithm"] != ALGORITHM or not isinstance(doc["commitment"], str):
            raise ValidationFailed("not a frozen safewatch-draw/1 record")
        fz = freeze(
            plan_id=doc["plan_id"],
            period=doc["period"],
            rules=rules_from_json(doc["rules"]),
            enterprise_rows=check_snapshot(
                doc["enterprises"], ENTERPRISE_FIELDS, ENTERPRISE_TYPES, "enterprises"
            ),
            officer_rows=check_snapshot(doc["officers"], OFFICER_FIELDS, OFFICER_TYPES, "officers"),
            commitment=doc["commitment"],
        )
        if fz.document_bytes() + b"\n" != data:
            raise ValidationFailed("the frozen record does not re-derive; it was altered")
        return fz


def first_difference(found: Any, expected: Any, path: str = "") -> str | None:
    """The path and values of the first place two JSON values differ, or None when equal."""
    if type(found) is not type(expected):
        return (
            f"{path or '(document)'}: document has {_short(found)}, re-derived {_short(expected)}"
        )
    if isinstance(found, dict):
        keys = [k for k in CHECK_ORDER if k in found or k in expected] if not path else []
        keys += sorted((set(found) | set(expected)) - set(keys))
        for key in keys:
            sub = f"{path}.{key}" if path else key
            if key not in found or key not in expected:
                side = "document lacks" if key not in found else "re-derivation lacks"
                return f"{sub}: {side} this member"
            diff = first_difference(found[key], expected[key], sub)
            if diff:
                return diff
        return None
    if isinstance(found, list):
        for i, (a, b) in enumerate(zip(found, expected, strict=False)):
            diff = first_difference(a, b, f"{path}[{i}]")
            if diff:
                return diff
        if len(found) != len(expected):
            return f"{path}: document has {len(found)} entries, re-derived {len(expected)}"
        return None
    if found != expected:
        return f"{path}: document has {_short(found)}, re-derived {_short(expected)}"
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def verify_bytes(data: bytes) -> str | None:
    """None when every byte of the document re-derives; otherwise the first difference found."""
    try:
        doc, expected = rederive(data)
    except ValidationFailed as exc:
        return exc.message
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, ArithmeticError) as exc:
        return f"malformed document: {exc!r}"
    if data == expected + b"\n":
        return None
    diff = first_difference(doc, loads_strict(expected))
    if diff:
        return diff
    return "the content re-derives but the bytes are not canonical JSON plus one newline"
