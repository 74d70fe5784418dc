"""Replay an enterprise's state in event-time order after a late event, and reconcile what the
wrong order wrote: status, maintenance jobs, special operations, restart requests and alarms.

Runs inside the ingest's batch transaction while the enterprise's status row is locked
(storage.event_order.lock_order), so no other worker interleaves the enterprise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from domain import replay as rp
from domain.alarms import Rule
from domain.i18n import render
from domain.monitoring import EnterpriseId, RuleOutcome
from domain.status import EnterpriseStatus
from storage import enterprise_status, restart_requests
from storage import event_order as store
from storage import special_ops as so_store
from storage.live import Change

log = logging.getLogger(__name__)

#: Rules whose open alarms a replay looks at: the event-only rules and the ones events can also
#: clear or raise (only raised or cleared, see domain.replay.EVENT_RULES).
_REPLAYED_RULES = sorted(
    {
        *rp.EVENT_RULES,
        Rule.PERMIT_EXPIRED,
        Rule.GAS_TEST_STALE,
        Rule.TRIAL_OVERRUN,
        Rule.VIDEO_MISSING,
    }
)


@dataclass(frozen=True, slots=True)
class Logged:
    """One event as a replay needs it: ordered domain event and, for a restart request, the
    row to store (keys event_id, ts, planned_at, self_check, failed)."""

    ordered: rp.Ordered
    request_row: dict[str, Any] | None = None


@dataclass
class Replay:
    """What the replay of one enterprise wrote and what the batch still has to apply."""

    status: EnterpriseStatus
    alarm_actions: RuleOutcome
    changes: list[Change] = field(default_factory=list)
    tests: list[tuple[str, str, Any, list[str], str | None]] = field(default_factory=list)
    last_key: rp.OrderKey | None = None
    superseded: int = 0


async def replay_enterprise(
    conn: AsyncConnection[Any],
    *,
    ent: str,
    batch: Sequence[Logged],
    parse: Callable[[str], Logged],
    policies: rp.Policies,
    now: datetime,
) -> Replay:
    """Fold the enterprise's stored events, restart decisions and this batch's events in
    event-time order from the empty state; write the result and reconcile the alarms."""
    logged = [parse(text) for text in await store.log_of(conn, ent=ent)]
    decisions = [
        rp.Ordered(rp.RestartDecision(f"decision:{d.id}", d.at, d.request, d.approved))
        for d in await store.decisions_of(conn, ent=ent)
    ]
    every = [*logged, *batch]
    # Like the in-order path, a start is judged knowing whether a video session is live now.
    live = await so_store.live_video_enterprises(conn, ents=[ent])
    initial = replace(rp.EnterpriseState.empty(EnterpriseId(ent)), video_live=ent in live)
    done = rp.replay(
        initial,
        [x.ordered for x in every] + decisions,
        policies,
    )
    state = done.state
    await enterprise_status.save_statuses(conn, statuses=[state.status])
    await store.write_maintenance(conn, ent=ent, jobs=done.maintenance)
    await so_store.save_ops(conn, ops=[state.ops[k] for k in sorted(state.ops)])
    out = Replay(state.status, RuleOutcome())
    fresh = {x.ordered.event.event_id for x in batch}
    for o, t in done.steps:
        if t is not None and o.event.event_id in fresh:
            out.tests.append((ent, str(t.op_id), t.reading, t.problems, t.event_id))
    await _requests(conn, ent, every, done, out)
    stored = await store.alarms_of(conn, ent=ent, rules=_REPLAYED_RULES)
    plan = rp.reconcile(done.outcome, set(stored.open_ids), stored.closed_seen)
    out.alarm_actions = plan.raise_clear
    out.changes += await store.close_superseded(
        conn,
        ids=[stored.open_ids[k] for k in plan.superseded],
        now=now,
        cause=rp.SUPERSEDED_CAUSE,
        text=render(rp.SUPERSEDED_TEXT),
    )
    out.superseded = len(plan.superseded)
    keys = [o.key for o, _ in done.steps if not isinstance(o.event, rp.RestartDecision)]
    out.last_key = max(keys) if keys else None
    log.info(
        "replayed %s: %d events in event-time order, %d alarms superseded",
        ent,
        len(keys),
        out.superseded,
    )
    return out


async def _requests(
    conn: AsyncConnection[Any],
    ent: str,
    every: Sequence[Logged],
    done: rp.Replayed,
    out: Replay,
) -> None:
    """Store the restart requests the event-time order makes, keep only the pending one."""
    rows = {x.ordered.event.event_id: x.request_row for x in every if x.request_row is not None}
    wanted = [{"ent": ent, **rows[r.event_id]} for r in done.requests if r.event_id in rows]
    ids = await restart_requests.insert_requests(conn, requests=wanted)
    for row, request_id in zip(wanted, ids, strict=True):
        if request_id is not None:
            out.changes.append(
                (
                    "restart_request",
                    ent,
                    {"id": request_id, "event_id": row["event_id"], "state": "pending"},
                )
            )
    pending = done.state.status.restart_request
    if pending is not None:
        await store.revive_request(conn, ent=ent, event_id=pending)
    await restart_requests.supersede_pending(conn, keep={EnterpriseId(ent): pending})
