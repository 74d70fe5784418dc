"""The site's non-event messages in a batch: commitments (and their cross-check), presence,
acknowledgements of guidance and notices."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from domain.alarms import Rule
from domain.commitment import Commitment, cross_check, mismatch_outcome
from domain.monitoring import AlarmClear, AlarmKey
from monitor.batch import Work
from monitor.parse import Accepted, Refused
from monitor.schemas_site import AckMessage, CommitmentMessage, PresenceMessage
from monitor.topics import RejectCode
from services import site_acks
from storage import commitments, enterprise_status


async def store_commitment(conn: AsyncConnection[Any], a: Accepted, work: Work) -> None:
    """Store a daily commitment; its day is cross-checked at the end of the batch."""
    body = a.body
    assert isinstance(body, CommitmentMessage)
    c = Commitment(
        enterprise_id=a.enterprise_id,
        day=body.date,
        units_total=body.units.total,
        units_running=body.units.running,
        units_stopped=body.units.stopped,
        special_ops=planned(body),
        maintenance=body.maintenance,
        contractor_work=body.contractor_work,
        trial_production=body.trial_production,
        startup_shutdown=body.startup_shutdown,
        risk_level=body.risk_level,
        committed_by=body.committed_by,
        committed_at=body.committed_at,
    )
    await commitments.upsert(conn, c=c)
    work.days.add((a.enterprise_id, c.day))
    work.actions.append(
        AlarmClear(AlarmKey(a.enterprise_id, Rule.COMMITMENT_MISSING, f"day:{c.day.isoformat()}"))
    )
    work.live.append(
        ("commitment", a.enterprise_id, {"date": c.day.isoformat(), "risk_level": c.risk_level})
    )


async def store_presence(
    conn: AsyncConnection[Any], a: Accepted, now: datetime, work: Work
) -> None:
    """Record the reported presence (online, or the last will)."""
    body = a.body
    assert isinstance(body, PresenceMessage)
    at = body.ts or now
    # online → no planned stop; a planned stop sets it; a last will (or any other "offline")
    # leaves it as it was, so the will that follows a planned stop does not undo it.
    planned = False if body.online else (True if body.planned else None)
    await enterprise_status.set_presence(
        conn, ent=a.enterprise_id, online=body.online, at=at, planned_stop=planned
    )
    work.live.append(
        (
            "presence",
            a.enterprise_id,
            {
                "online": body.online,
                "at": at.isoformat(),
                "retained": a.msg.retain,
                "planned": body.planned,
            },
        )
    )


async def store_ack(conn: AsyncConnection[Any], a: Accepted, work: Work) -> None:
    """Mark a guidance or notice acknowledged (a rectification order's notice acknowledges the
    order too); an unknown ref is refused."""
    body = a.body
    assert isinstance(body, AckMessage)
    found = await site_acks.acknowledge(
        conn, ent=a.enterprise_id, ref=body.ref, at=body.ts, by=body.by
    )
    if found is None:
        work.refused.append(
            Refused(
                a.msg,
                RejectCode.REF_UNKNOWN,
                f"no guidance or notice {body.ref!r} was sent to this enterprise",
                a.enterprise_id,
                body.ref,
            )
        )


async def cross_check_days(
    conn: AsyncConnection[Any], work: Work, tz: ZoneInfo, now: datetime
) -> None:
    """Compare each touched day's commitment with what was reported (data-quality alarm)."""
    by_day: dict[date, list[str]] = {}
    for ent, day in work.days:
        by_day.setdefault(day, []).append(ent)
    for day, ents in sorted(by_day.items()):
        found = await commitments.for_day(conn, ents=ents, day=day)
        if not found:
            continue
        lo = datetime.combine(day, time(0), tz)
        facts = await commitments.actuals(conn, ents=list(found), lo=lo, hi=lo + timedelta(days=1))
        for ent, c in found.items():
            work.add(mismatch_outcome(c, cross_check(c, facts[ent]), now))


def planned(body: CommitmentMessage) -> dict[tuple[str, str | None], int]:
    """Planned special operations by (type, grade)."""
    out: dict[tuple[str, str | None], int] = {}
    for p in body.special_ops:
        key = (p.op_type.value, p.grade)
        out[key] = out.get(key, 0) + p.count
    return out
