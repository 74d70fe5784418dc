"""Exactly-once keys of the ingest (tables `event_keys` and `telemetry_keys`): claim, prune."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from psycopg import AsyncConnection

from storage.errors import amapped_errors
from storage.rows import named_row

CLAIM_EVENT_KEYS = """
INSERT INTO event_keys (enterprise_id, event_id, digest, ts)
SELECT * FROM unnest(%(ents)b::text[], %(ids)b::text[], %(digests)b::bytea[],
                     %(ts)b::timestamptz[])
ON CONFLICT DO NOTHING
RETURNING enterprise_id, event_id
"""
STORED_DIGESTS = """
SELECT k.enterprise_id, k.event_id, k.digest
  FROM event_keys k
  JOIN unnest(%(ents)b::text[], %(ids)b::text[]) AS u(enterprise_id, event_id)
 USING (enterprise_id, event_id)
"""
# A claimed event refused later in its batch (monitor/open_limit.py) gives its key back, so
# the same event sent again once it is acceptable is stored, not taken for a redelivery.
RELEASE_EVENT_KEYS = """
DELETE FROM event_keys k
 USING unnest(%(ents)b::text[], %(ids)b::text[]) AS u(enterprise_id, event_id)
 WHERE k.enterprise_id = u.enterprise_id AND k.event_id = u.event_id
"""
CLAIM_TELEMETRY_KEYS = """
INSERT INTO telemetry_keys (enterprise_id, digest)
SELECT * FROM unnest(%(ents)b::text[], %(digests)b::bytea[])
ON CONFLICT DO NOTHING
RETURNING enterprise_id, digest
"""
PRUNE_EVENT_KEYS = "DELETE FROM event_keys WHERE received_at < %(before)s"
PRUNE_TELEMETRY_KEYS = "DELETE FROM telemetry_keys WHERE received_at < %(before)s"


EventKey = tuple[str, str]


class _ClaimedEvent(NamedTuple):
    enterprise_id: str
    event_id: str


class _StoredDigest(NamedTuple):
    enterprise_id: str
    event_id: str
    digest: bytes


class _ClaimedTelemetry(NamedTuple):
    enterprise_id: str
    digest: bytes


async def claim_event_keys(
    conn: AsyncConnection[Any],
    *,
    keys: Sequence[tuple[str, str, bytes, datetime]],
    legacy: Mapping[EventKey, bytes] | None = None,
) -> tuple[set[EventKey], set[EventKey]]:
    """Insert (enterprise, event id, digest, ts) keys; return (new keys, reused keys).

    Keys already stored with the same digest (or with the key's `legacy` digest, the form keys
    were stored in before) are redeliveries (neither new nor reused); the same id with another
    digest is a reuse. `keys` must not repeat a key.
    """
    alt = legacy or {}
    if not keys:
        return set(), set()
    params = {
        "ents": [k[0] for k in keys],
        "ids": [k[1] for k in keys],
        "digests": [k[2] for k in keys],
        "ts": [k[3] for k in keys],
    }
    async with amapped_errors():
        async with conn.cursor(row_factory=named_row(_ClaimedEvent)) as cur:
            await cur.execute(CLAIM_EVENT_KEYS, params)
            new = {(str(r.enterprise_id), str(r.event_id)) for r in await cur.fetchall()}
        old = [k for k in keys if (k[0], k[1]) not in new]
        reused: set[EventKey] = set()
        if old:
            async with conn.cursor(row_factory=named_row(_StoredDigest)) as cur:
                await cur.execute(
                    STORED_DIGESTS, {"ents": [k[0] for k in old], "ids": [k[1] for k in old]}
                )
                digest = {
                    (str(r.enterprise_id), str(r.event_id)): bytes(r.digest)
                    for r in await cur.fetchall()
                }
            reused = {
                (k[0], k[1])
                for k in old
                if digest.get((k[0], k[1])) not in (k[2], alt.get((k[0], k[1])))
            }
    return new, reused


async def release_event_keys(conn: AsyncConnection[Any], *, keys: Sequence[EventKey]) -> None:
    """Forget (enterprise, event id) keys claimed in this transaction for events it refused."""
    if not keys:
        return
    async with amapped_errors():
        await conn.execute(
            RELEASE_EVENT_KEYS, {"ents": [k[0] for k in keys], "ids": [k[1] for k in keys]}
        )


async def claim_telemetry_keys(
    conn: AsyncConnection[Any], *, keys: Sequence[tuple[str, bytes]]
) -> set[tuple[str, bytes]]:
    """Insert telemetry message keys; return the ones not seen before."""
    if not keys:
        return set()
    async with amapped_errors(), conn.cursor(row_factory=named_row(_ClaimedTelemetry)) as cur:
        await cur.execute(
            CLAIM_TELEMETRY_KEYS, {"ents": [k[0] for k in keys], "digests": [k[1] for k in keys]}
        )
        return {(str(r.enterprise_id), bytes(r.digest)) for r in await cur.fetchall()}


async def prune_keys(
    conn: AsyncConnection[Any], *, events_before: datetime, telemetry_before: datetime
) -> tuple[int, int]:
    """Forget exactly-once keys older than the redelivery horizon."""
    async with amapped_errors():
        ev = await conn.execute(PRUNE_EVENT_KEYS, {"before": events_before})
        tm = await conn.execute(PRUNE_TELEMETRY_KEYS, {"before": telemetry_before})
    return ev.rowcount, tm.rowcount
