"""One batch of checked messages → domain decisions → the writes of one transaction."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from config.policy_monitoring import MonitoringPolicy
from domain import special_ops as so
from domain import status as st
from domain.alarms import Rule
from domain.clock import utcnow
from domain.i18n import msg, render
from domain.monitoring import (
    AlarmClear,
    AlarmKey,
    EnterpriseId,
    RuleOutcome,
    raise_one,
)
from domain.presence import counts_as_activity
from domain.special_ops import GasReading, SpecialOp
from monitor.batch import BatchResult, Caches, Work
from monitor.parse import Accepted, Refused
from monitor.schemas import (
    STATUS_EVENTS,
    EventBase,
    GasTestEvent,
    ResumeRequestEvent,
    SpecialOpEndEvent,
    SpecialOpPauseEvent,
    SpecialOpResumeEvent,
    SpecialOpStartEvent,
)
from monitor.schemas_site import PresenceMessage
from monitor.site_messages import cross_check_days, store_ack, store_commitment, store_presence
from monitor.telemetry_batch import store_telemetry
from monitor.topics import RejectCode, Uplink
from storage import alarms, monitoring
from storage import monitoring_ingest as store
from storage import special_ops as so_store
from storage.live import publish_changes

log = logging.getLogger(__name__)

#: Events whose arrival can change the cross-check of that day's commitment.
_CROSS_CHECKED = frozenset(
    {"special_op_start", "maintenance_start", "trial_start", "shutdown", "resume"}
)


class Processor:
    """Applies the domain rules to a batch and writes everything in the caller's transaction."""

    def __init__(self, policy: MonitoringPolicy, tz: ZoneInfo, caches: Caches) -> None:
        """A processor with the validated policy, the bureau's zone and shared caches."""
        self.policy = policy
        self.tz = tz
        self.caches = caches

    def bureau_day(self, ts: datetime) -> date:
        """The bureau's calendar day of an instant."""
        return ts.astimezone(self.tz).date()

    async def process(
        self, conn: AsyncConnection[Any], accepted: list[Accepted], refused: list[Refused]
    ) -> BatchResult:
        """Store one batch; raise on database errors (the caller retries or isolates)."""
        now = utcnow()
        work = Work(refused=list(refused))
        await self._activity(conn, accepted, work, now)
        by_kind: dict[Uplink, list[Accepted]] = {k: [] for k in Uplink}
        for a in accepted:
            by_kind[a.kind].append(a)
        fresh, dup_events = await self._claim_events(conn, by_kind[Uplink.EVENT], work)
        await self._events(conn, fresh, work, now)
        for a in by_kind[Uplink.COMMITMENT]:
            await store_commitment(conn, a, work)
        for a in by_kind[Uplink.PRESENCE]:
            await store_presence(conn, a, now, work)
        for a in by_kind[Uplink.ACK]:
            await store_ack(conn, a, work)
        tel = await store_telemetry(
            conn,
            by_kind[Uplink.TELEMETRY],
            registry=self.caches.registry,
            registered=self.caches.registered,
            stale_open=self.caches.stale_open,
            severities=self.policy.levels,
        )
        work.actions.extend(tel.actions)
        await cross_check_days(conn, work, self.tz, now)
        changed = await alarms.apply(
            conn,
            RuleOutcome(tuple(work.actions)),
            rules=self.policy.rules,
            now=now,
            live_out=work.live,
        )
        await publish_changes(conn, work.live)
        await store.insert_rejected(conn, [self.rejected_row(r, now) for r in work.refused])
        return BatchResult(
            refused=work.refused,
            events=len(fresh),
            duplicates=dup_events + tel.duplicates,
            points=tel.points,
            alarms_changed=len(changed),
        )

    async def _activity(
        self, conn: AsyncConnection[Any], accepted: list[Accepted], work: Work, now: datetime
    ) -> None:
        activity: dict[str, datetime | None] = {}
        for a in accepted:
            body = a.body
            if isinstance(body, PresenceMessage) and not counts_as_activity(
                online=body.online, retained=a.msg.retain, has_ts=body.ts is not None
            ):
                activity.setdefault(a.enterprise_id, None)
                continue
            activity[a.enterprise_id] = now
        await store.touch_activity(conn, activity)
        for ent, at in activity.items():
            if at is not None and ent in self.caches.offline_open:
                work.actions.append(
                    AlarmClear(AlarmKey(EnterpriseId(ent), Rule.OFFLINE, "presence"), now)
                )

    async def _claim_events(
        self, conn: AsyncConnection[Any], events: list[Accepted], work: Work
    ) -> tuple[list[tuple[Accepted, EventBase]], int]:
        seen: dict[tuple[str, str], bytes] = {}
        keys: list[tuple[str, str, bytes, datetime]] = []
        first: list[tuple[Accepted, EventBase]] = []
        dups = 0
        for a in events:
            ev = _event(a)
            key = (str(a.enterprise_id), ev.event_id)
            if key in seen:
                if seen[key] == a.digest:
                    dups += 1
                else:
                    work.refused.append(_reused(a, ev.event_id))
                continue
            seen[key] = a.digest
            keys.append((a.enterprise_id, ev.event_id, a.digest, ev.ts))
            first.append((a, ev))
        new, reused = await store.claim_event_keys(conn, keys)
        fresh = []
        for a, ev in first:
            key = (str(a.enterprise_id), ev.event_id)
            if key in new:
                fresh.append((a, ev))
            elif key in reused:
                work.refused.append(_reused(a, ev.event_id))
            else:
                dups += 1
        return fresh, dups

    async def _events(
        self,
        conn: AsyncConnection[Any],
        events: list[tuple[Accepted, EventBase]],
        work: Work,
        now: datetime,
    ) -> None:
        if not events:
            return
        status_ents = [a.enterprise_id for a, ev in events if isinstance(ev, STATUS_EVENTS)]
        statuses = await monitoring.lock_statuses(conn, status_ents)
        op_keys = [(a.enterprise_id, str(ev.op_id)) for a, ev in events if hasattr(ev, "op_id")]
        ops = await so_store.lock_ops(conn, op_keys)
        needs_prior = [
            (a.enterprise_id, ev.op_id)
            for a, ev in events
            if isinstance(ev, SpecialOpStartEvent) and ev.gas_test is None
        ]
        prior: dict[tuple[str, str], GasReading] = await so_store.latest_tests(conn, needs_prior)
        changed_status: set[EnterpriseId] = set()
        changed_ops: set[tuple[str, str]] = set()
        tests: list[tuple[str, str, GasReading, list[str], str | None]] = []
        requests: list[tuple[EnterpriseId, ResumeRequestEvent]] = []
        maint_starts: list[tuple[str, st.Maintenance]] = []
        maint_ends: list[tuple[str, str, datetime]] = []
        voided: set[EnterpriseId] = set()
        per_ent: dict[EnterpriseId, Counter[str]] = {}
        policy = self.policy.special_ops
        for a, body in events:
            ent = a.enterprise_id
            per_ent.setdefault(ent, Counter())[body.type] += 1
            if body.type in _CROSS_CHECKED:
                work.days.add((ent, self.bureau_day(body.ts)))
            if isinstance(body, STATUS_EVENTS):
                before = statuses[ent]
                event = body.to_domain()
                t = st.apply(before, event, self.policy.trial)
                statuses[ent] = t.status
                changed_status.add(ent)
                work.add(t.outcome)
                if isinstance(event, st.Shutdown) and before.restart_request is not None:
                    voided.add(ent)
                if t.new_request is not None:
                    assert isinstance(body, ResumeRequestEvent)
                    requests.append((ent, body))
                if isinstance(event, st.MaintenanceStart):
                    job = next(m for m in t.status.maintenance if m.maint_id == event.maint_id)
                    maint_starts.append((ent, job))
                elif isinstance(event, st.MaintenanceEnd) and any(
                    m.maint_id == event.maint_id for m in before.maintenance
                ):
                    maint_ends.append((ent, event.maint_id, event.ts))
                continue
            key = (str(ent), str(getattr(body, "op_id", "")))
            if isinstance(body, SpecialOpStartEvent):
                start = body.to_domain()
                op, outcome = so.start(start, ent, prior.get(key), policy)
                if start.gas_test is not None:
                    problems = [render(p) for p in so.gas_problems(start.gas_test, policy.gas)]
                    tests.append((ent, op.op_id, start.gas_test, problems, body.event_id))
            elif isinstance(body, GasTestEvent):
                reading = body.reading(body.ts)
                problems = [render(p) for p in so.gas_problems(reading, policy.gas)]
                tests.append((ent, body.op_id, reading, problems, body.event_id))
                prior[key] = reading
                current = ops.get(key)
                if current is None or current.state is so.OpState.ENDED:
                    continue
                op, outcome = so.gas_test(current, reading, policy)
            else:
                current = ops.get(key)
                if current is None:
                    work.add(_unknown_op(ent, body))
                    continue
                op, outcome = _lifecycle(current, body, policy)
            ops[key] = op
            changed_ops.add(key)
            work.add(outcome)
        await monitoring.save_statuses(conn, [statuses[e] for e in sorted(changed_status)])
        await monitoring.start_maintenance(conn, maint_starts)
        await monitoring.end_maintenance(conn, maint_ends)
        await so_store.save_ops(conn, [ops[k] for k in sorted(changed_ops)])
        await so_store.insert_tests(conn, tests)
        await self._requests(conn, requests, work)
        touched = voided | {ent for ent, _ in requests}
        if touched:
            await monitoring.supersede_pending(
                conn, {e: statuses[e].restart_request for e in touched}
            )
        await store.copy_events(
            conn,
            [
                store.EventRow(ev.ts, a.enterprise_id, ev.event_id, ev.type, a.msg.payload.decode())
                for a, ev in events
            ],
            received_at=utcnow(),
        )
        for ent_id, counts in sorted(per_ent.items()):
            work.live.append(("event", ent_id, {"types": dict(counts)}))
        for ent_id in sorted(changed_status):
            s = statuses[ent_id]
            work.live.append(
                (
                    "status",
                    ent_id,
                    {
                        "headline": s.headline,
                        "mode": s.mode.value,
                        "maintenance": s.maintenance_scope.value if s.maintenance_scope else None,
                        "restart_request": s.restart_request,
                        "trial_id": s.trial_id,
                    },
                )
            )

    async def _requests(
        self,
        conn: AsyncConnection[Any],
        requests: list[tuple[EnterpriseId, ResumeRequestEvent]],
        work: Work,
    ) -> None:
        ids = await monitoring.insert_requests(
            conn,
            [
                {
                    "ent": ent,
                    "event_id": req.event_id,
                    "ts": req.ts,
                    "planned_at": req.planned_at,
                    "self_check": [i.model_dump() for i in req.self_check],
                    "failed": sum(1 for i in req.self_check if not i.ok),
                }
                for ent, req in requests
            ],
        )
        for (ent, req), request_id in zip(requests, ids, strict=True):
            if request_id is not None:
                work.live.append(
                    (
                        "restart_request",
                        ent,
                        {"id": request_id, "event_id": req.event_id, "state": "pending"},
                    )
                )

    def rejected_row(self, r: Refused, now: datetime) -> store.RejectedRow:
        """The stored form of a refusal (payload truncated)."""
        return store.RejectedRow(
            received_at=now,
            topic=r.msg.topic,
            enterprise_id=r.enterprise_id,
            code=r.code.value,
            reason=r.reason,
            ref=r.ref,
            payload=r.msg.payload[: self.policy.rejected_excerpt_bytes],
            payload_size=len(r.msg.payload),
        )


def _event(a: Accepted) -> EventBase:
    body = a.body
    assert isinstance(body, EventBase)
    return body


def _reused(a: Accepted, event_id: str) -> Refused:
    return Refused(
        a.msg,
        RejectCode.EVENT_ID_REUSED,
        f"event id {event_id!r} was already used for a different event",
        a.enterprise_id,
        event_id,
    )


def _unknown_op(ent: EnterpriseId, body: Any) -> RuleOutcome:
    return raise_one(
        ent,
        Rule.OPERATION_UNKNOWN,
        f"op:{body.op_id}",
        msg("alarm.operation_unknown", event=body.type, op_id=body.op_id),
        at=body.ts,
        event_id=body.event_id,
    )


def _lifecycle(
    op: SpecialOp, body: Any, policy: so.SpecialOpsPolicy
) -> tuple[SpecialOp, RuleOutcome]:
    if isinstance(body, SpecialOpPauseEvent):
        return so.pause(op, body.ts), RuleOutcome()
    if isinstance(body, SpecialOpResumeEvent):
        return so.resume(op, body.ts, policy)
    assert isinstance(body, SpecialOpEndEvent)
    return so.end(op, body.ts)
