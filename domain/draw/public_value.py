"""What a v2 draw record names at freeze: the public value's source, the period window, witnesses,
the repeat reason, and the per-draw pseudonyms of officers (the rules live in verifier.py)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.draw import verifier
from domain.errors import ValidationFailed
from domain.i18n import msg

#: A freeze time and a read-after time are written to the second, in UTC.
STAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _checked(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except ValueError as exc:
        raise ValidationFailed(msg("draw.public_value_invalid", exc=str(exc))) from exc


@dataclass(frozen=True, slots=True)
class PublicSource:
    """Where the public value comes from, its canonical format, and when it may be read."""

    kind: str  # lottery | beacon | none
    name: str  # e.g. 中国福利彩票双色球, drand quicknet
    round: str  # the lottery issue or beacon round ("" = the first one after read_after)
    read_after: datetime

    @property
    def format(self) -> str:
        """The canonical format the kind implies (numbers, hex64, none)."""
        return verifier.SOURCES[self.kind]

    def to_json(self) -> dict[str, str]:
        """The frozen record's `public_source` member."""
        return {
            "kind": self.kind,
            "name": self.name,
            "round": self.round,
            "format": self.format,
            "read_after": stamp(self.read_after),
        }


def no_public_source(frozen_at: datetime) -> PublicSource:
    """The source of a draw without a public value (test settings only)."""
    return PublicSource("none", "", "", frozen_at)


def check_source(source: PublicSource, frozen_at: datetime) -> None:
    """Refuse a source the verifier would refuse (unknown kind, read before the freeze …)."""
    if source.kind not in verifier.SOURCES:
        raise ValidationFailed(
            msg("draw.public_value_kind", sources=", ".join(verifier.SOURCES), kind=source.kind)
        )
    doc = {"public_source": source.to_json(), "frozen_at": stamp(frozen_at)}
    if source.kind == "none":
        ok = not source.name and not source.round and doc["frozen_at"] == stamp(source.read_after)
    else:
        ok = bool(source.name) and source.read_after.replace(microsecond=0) > frozen_at.replace(
            microsecond=0
        )
    if not ok or verifier.CONTROL.search(source.name + source.round):
        raise ValidationFailed(msg("draw.public_value_source"))


def normalise(value: str, fmt: str) -> str:
    """The one canonical spelling of a public value in its format."""
    return str(_checked(verifier.normalise, value, fmt))


def stamp(moment: datetime) -> str:
    """A UTC time to the second, `YYYY-MM-DDTHH:MM:SSZ`."""
    if moment.tzinfo is None:
        raise ValidationFailed(msg("draw.time_without_zone"))
    return moment.astimezone(UTC).strftime(STAMP_FORMAT)


def period_label(start: date, end: date) -> str:
    """`YYYY-MM` for a whole calendar month, else `YYYY-MM-DD/YYYY-MM-DD`."""
    month = start.strftime("%Y-%m")
    if start.day == 1 and (end + timedelta(days=1)).day == 1 and end.strftime("%Y-%m") == month:
        return month
    return f"{start.isoformat()}/{end.isoformat()}"


def period_window(label: str) -> tuple[date, date]:
    """The window a period label names; ValidationFailed for anything but a real window."""
    start, end = _checked(verifier.period_window, label)
    return date.fromisoformat(start), date.fromisoformat(end)


def witness_commitment(secret: bytes) -> str:
    """What a witness publishes at freeze: hex SHA-256 of their 32 secret bytes."""
    if len(secret) != 32:
        raise ValidationFailed(msg("draw.witness_secret_length"))
    return hashlib.sha256(secret).hexdigest()


def pseudonym(key: bytes, plan_id: str, period: str, attempt: int, officer_id: str) -> str:
    """An officer's per-draw pseudonym: HMAC-SHA256 under the auditors' key, 80 bits, `P…`."""
    message = "\0".join((verifier.V2, "officer", plan_id, period, str(attempt), officer_id))
    return "P" + hmac.digest(key, message.encode(), "sha256")[:10].hex()


def reveal(
    key: bytes, plan_id: str, period: str, attempt: int, officer_ids: list[str]
) -> dict[str, str]:
    """Pseudonym → officer id for every officer given (what a notary with the key can do)."""
    return {pseudonym(key, plan_id, period, attempt, oid): oid for oid in officer_ids}
