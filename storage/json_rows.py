"""Many rows as one JSON parameter, for set-based writes (`jsonb_to_recordset`): one statement
instead of one per row, which is what makes the ingest's batches cheap."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def rows_json(rows: Iterable[dict[str, Any]]) -> str:
    """The rows as a JSON array text (datetimes in ISO 8601 with their offset)."""
    return json.dumps(list(rows), ensure_ascii=False, default=_default)
