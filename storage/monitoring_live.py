"""Many live changes in one statement (the ingest's hot path); same table and trigger as
storage/live.py, so readers and the NOTIFY channel see no difference."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection

from storage.errors import amapped_errors

INSERT_MANY = """
INSERT INTO live_changes (kind, enterprise_id, payload)
SELECT c.kind, c.enterprise_id, c.payload
  FROM ROWS FROM (jsonb_to_recordset(%(changes)s::jsonb)
                  AS (kind text, enterprise_id text, payload jsonb)) WITH ORDINALITY
       AS c(kind, enterprise_id, payload, n)
 ORDER BY c.n
"""

#: (kind, enterprise_id, payload) as for live.publish_change.
Change = tuple[str, str | None, dict[str, Any]]


async def publish_changes(conn: AsyncConnection[Any], changes: Sequence[Change]) -> None:
    """Record several changes in the caller's transaction, in order (NOTIFY on commit)."""
    if not changes:
        return
    async with amapped_errors():
        await conn.execute(
            INSERT_MANY,
            {
                "changes": json.dumps(
                    [{"kind": k, "enterprise_id": e, "payload": p} for k, e, p in changes],
                    ensure_ascii=False,
                    default=str,
                )
            },
        )
