"""Reading timestamps PostgreSQL can hold but Python cannot (after 9999-12-31, ±infinity).

A row stored before the ingest range-checked times (or written by hand) must not make every
query that touches it fail: such a value reads as the largest (or smallest) aware datetime, and
the periodic jobs flag it as a data problem (scheduler/isolation.py) instead of stopping.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import abc
from psycopg.adapt import Loader
from psycopg.pq import Format

#: What an out-of-range timestamp reads as.
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
FAR_PAST = datetime.min.replace(tzinfo=UTC)


def _tolerant(base: type[abc.Loader], fmt: Format) -> type[Loader]:
    # The C loaders cannot be subclassed: wrap one instead.
    class Tolerant(Loader):
        format = fmt

        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._inner = base(oid, context)

        def load(self, data: Any) -> datetime:
            try:
                value: datetime = self._inner.load(data)
            except psycopg.DataError as exc:
                return FAR_PAST if "too small" in str(exc) else FAR_FUTURE
            return value

    Tolerant.__name__ = f"Tolerant{base.__name__}"
    return Tolerant


def register(adapters: psycopg.adapt.AdaptersMap | None = None) -> None:
    """Make timestamptz loading tolerant (for every connection made afterwards by default)."""
    target = adapters if adapters is not None else psycopg.adapters
    for fmt in (Format.TEXT, Format.BINARY):
        base = target.get_loader(target.types["timestamptz"].oid, fmt)
        if base is not None and not base.__name__.startswith("Tolerant"):
            target.register_loader("timestamptz", _tolerant(base, fmt))
