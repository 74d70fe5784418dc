"""A site's acknowledgement on `…/ack`: the downlink is marked, and when it is a rectification
order's notice the order itself is acknowledged (here, so that services.downlinks and
services.rectification need not import each other)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from services import downlinks, rectification
from storage.downlinks import Downlink


async def acknowledge(
    conn: AsyncConnection[Any], *, ent: str, ref: str, at: datetime, by: str | None
) -> Downlink | None:
    """Mark the enterprise's downlink acknowledged and acknowledge what it carries (both
    idempotent); None when the ref is unknown to that enterprise (another's stays untouched)."""
    downlink = await downlinks.acknowledge(conn, ent=ent, ref=ref, at=at, by=by)
    if downlink is not None and downlink.channel == "notice":
        await rectification.acknowledge_notice(conn, notice=downlink, at=at, by=by)
    return downlink
