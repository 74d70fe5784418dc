"""Delivery of guidance and notices to sites: publication, expiry and the site's
acknowledgement, each announced to the dashboards (the downlink rows are the record)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from services.changes import announce
from storage import downlinks
from storage.downlinks import Downlink


def live_payload(d: Downlink, change: str) -> dict[str, Any]:
    """What the live change of a downlink says (no text: the site's own page fetches it)."""
    return {
        "id": d.id,
        "ref": d.ref,
        "channel": d.channel,
        "kind": d.kind,
        "state": d.state,
        "change": change,
        "attempts": d.attempts,
    }


async def mark_sent(
    conn: AsyncConnection[Any], *, downlink: Downlink, now: datetime, next_attempt: datetime
) -> None:
    """Record a publication; the first one (or a delivery that wants no ack) is announced."""
    state = await downlinks.mark_sent(conn, downlink=downlink, now=now, next_attempt=next_attempt)
    if downlink.attempts == 0 or state == "delivered":
        payload = {
            **live_payload(downlink, "sent"),
            "state": state,
            "attempts": downlink.attempts + 1,
        }
        await announce(conn, changes=[("guidance", downlink.enterprise_id, payload)])


async def expire(conn: AsyncConnection[Any], *, now: datetime) -> int:
    """Give up on unacknowledged downlinks past their expiry; how many."""
    expired = await downlinks.expire(conn, now=now)
    await announce(
        conn,
        changes=[
            (
                "guidance",
                e.enterprise_id,
                {
                    "id": e.id,
                    "ref": e.ref,
                    "channel": e.channel,
                    "state": "expired",
                    "change": "expired",
                },
            )
            for e in expired
        ],
    )
    return len(expired)


async def acknowledge(
    conn: AsyncConnection[Any], *, ent: str, ref: str, at: datetime, by: str | None
) -> Downlink | None:
    """The site acknowledges a downlink (idempotent: only the first is announced); None when
    the ref is unknown to that enterprise."""
    found = await downlinks.acknowledge(conn, ent=ent, ref=ref, at=at, by=by)
    if found is None:
        return None
    downlink, first = found
    if first:
        # the change is the new state: acknowledged (asked for) or received (not asked for)
        await announce(conn, changes=[("guidance", ent, live_payload(downlink, downlink.state))])
    return downlink
