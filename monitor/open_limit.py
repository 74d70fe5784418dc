"""The bound on an enterprise's open maintenance jobs, applied at the ingest boundary (issue 11).

A `maintenance_start` of a new job while the enterprise already holds the bureau's maximum of
open jobs (config/monitoring.yaml, ingest.max_open_maintenance) is refused like any other bad
uplink: `maintenance_open_limit` on …/reject (MQTT) or in the report's outcome (portal), a row in
`rejected_messages`, and a `maintenance_open_limit` alarm for duty staff. Its exactly-once key
is given back in the same transaction, so the same event is accepted once jobs have ended.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from domain import replay as rp
from domain import status as st
from domain.monitoring import EnterpriseId
from monitor.batch import Work
from monitor.parse import Accepted, Refused
from monitor.schemas import EventBase, MaintenanceEndEvent, MaintenanceStartEvent
from monitor.topics import RejectCode
from storage import enterprise_status, ingest_keys


async def refuse_over_limit(
    conn: AsyncConnection[Any],
    events: list[tuple[Accepted, EventBase]],
    work: Work,
    limit: int,
) -> list[tuple[Accepted, EventBase]]:
    """The events to store; refused starts go to `work` with their alarm. Call with the
    enterprises' status rows locked (storage.event_order.lock_order), so that two monitors
    cannot both accept the last free place."""
    ents = sorted({a.enterprise_id for a, ev in events if isinstance(ev, MaintenanceStartEvent)})
    if not ents:
        return events
    open_ids = await enterprise_status.open_maintenance_ids(conn, ents=ents)
    by_ent: dict[str, list[tuple[rp.OrderKey, st.MaintenanceStart | st.MaintenanceEnd]]] = {}
    for a, ev in events:
        if isinstance(ev, MaintenanceStartEvent | MaintenanceEndEvent):
            key = rp.order_key(ev.ts, ev.seq, ev.event_id)
            by_ent.setdefault(a.enterprise_id, []).append((key, ev.to_domain()))
    refused: set[tuple[str, str]] = set()
    for ent in ents:
        ordered = [e for _, e in sorted(by_ent.get(ent, []), key=lambda t: t[0])]
        check = st.check_open_limit(EnterpriseId(ent), open_ids.get(ent, set()), ordered, limit)
        work.add(check.outcome)
        refused |= {(ent, ev.event_id) for ev in check.refused}
    if not refused:
        return events
    kept: list[tuple[Accepted, EventBase]] = []
    for a, ev in events:
        if (a.enterprise_id, ev.event_id) not in refused:
            kept.append((a, ev))
            continue
        assert isinstance(ev, MaintenanceStartEvent)
        work.refused.append(
            Refused(
                a.msg,
                RejectCode.MAINTENANCE_OPEN_LIMIT,
                f"the enterprise already holds {limit} open maintenance jobs (the bureau's"
                f" limit); report the end of finished jobs before starting {ev.maint_id!r}",
                a.enterprise_id,
                ev.event_id,
            )
        )
    await ingest_keys.release_event_keys(conn, keys=sorted(refused))
    return kept
