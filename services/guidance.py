"""Guidance from duty staff to a site (published on …/guidance with QoS 1 until acknowledged)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection

from domain.clock import utcnow
from services.changes import Actor, Audit, record
from services.downlinks import live_payload
from storage import downlinks
from storage.downlinks import Downlink


async def send(
    conn: AsyncConnection[Any],
    *,
    ent: str,
    text: str,
    requires_ack: bool,
    life: timedelta,
    actor: Actor,
    now: datetime | None = None,
) -> Downlink:
    """Queue guidance for `life`; the monitor publishes it and retries until acknowledged."""
    assert actor.principal is not None, "guidance is sent by a person"
    now = now or utcnow()
    d = await downlinks.create(
        conn,
        channel="guidance",
        ent=ent,
        text=text,
        sender=actor.principal.username,
        requires_ack=requires_ack,
        expires_at=now + life,
        now=now,
    )
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            "guidance.send",
            f"enterprise:{ent}",
            after={"ref": d.ref, "text": d.text, "requires_ack": d.requires_ack},
        ),
        changes=[("guidance", ent, live_payload(d, "created"))],
    )
    return d
