"""One batch of checked messages → domain decisions → the writes of one transaction."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from config.policy_monitoring import MonitoringPolicy
from domain import replay as rp
from domain import status as st
from domain.alarms import Rule
from domain.clock import utcnow
from domain.monitoring import (
    AlarmClear,
    AlarmKey,
    EnterpriseId,
    RuleOutcome,
)
from domain.presence import counts_as_activity
from domain.special_ops import GasReading, SpecialOp
from monitor import metrics
from monitor.batch import BatchResult, Caches, Work
from monitor.canonical import canonical_digest
from monitor.open_limit import refuse_over_limit
from monitor.ordering import parse_logged, to_logged
from monitor.parse import Accepted, Refused
from monitor.schemas import STATUS_EVENTS, EventBase, SpecialOpStartEvent
from monitor.schemas_site import PresenceMessage
from monitor.site_messages import cross_check_days, store_ack, store_commitment, store_presence
from monitor.telemetry_batch import store_telemetry
from monitor.topics import RejectCode, Uplink
from services import event_order
from services.changes import announce
from services.event_order import Logged
from storage import alarms, enterprise_status, ingest_keys, rejected_messages, restart_requests
from storage import event_order as order_store
from storage import events as event_store
from storage import special_ops as so_store

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
        self.policies = rp.Policies(policy.trial, policy.special_ops)

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
        fresh = await self._events(conn, fresh, work, now)
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
            outcome=RuleOutcome(tuple(work.actions)),
            rules=self.policy.rules,
            now=now,
            live_out=work.live,
        )
        await announce(conn, changes=work.live)
        await rejected_messages.insert_rejected(
            conn, rows=[self.rejected_row(r, now) for r in work.refused]
        )
        return BatchResult(
            refused=work.refused,
            events=len(fresh),
            duplicates=dup_events + tel.duplicates,
            points=tel.points,
            alarms_changed=len(changed),
            duplicate_msgs=work.duplicates + tel.duplicate_msgs,
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
        await enterprise_status.touch_activity(conn, activity=activity)
        for ent, at in activity.items():
            if at is not None and ent in self.caches.offline_open:
                work.actions.append(
                    AlarmClear(AlarmKey(EnterpriseId(ent), Rule.OFFLINE, "presence"), now)
                )

    async def _claim_events(
        self, conn: AsyncConnection[Any], events: list[Accepted], work: Work
    ) -> tuple[list[tuple[Accepted, EventBase]], int]:
        # The same event is the same canonical content (monitor/canonical.py), not the same
        # bytes: a retry that rebuilt its JSON is a redelivery. Keys stored before that rule
        # hold the digest of the bytes, which still counts as the same (`legacy`).
        seen: dict[tuple[str, str], bytes] = {}
        keys: list[tuple[str, str, bytes, datetime]] = []
        legacy: dict[tuple[str, str], bytes] = {}
        first: list[tuple[Accepted, EventBase]] = []
        dups = 0
        for a in events:
            ev = _event(a)
            key = (str(a.enterprise_id), ev.event_id)
            digest = canonical_digest(ev)
            if key in seen:
                if seen[key] == digest:
                    dups += 1
                    work.duplicates.append(a.msg)
                else:
                    work.refused.append(_reused(a, ev.event_id))
                continue
            seen[key] = digest
            keys.append((a.enterprise_id, ev.event_id, digest, ev.ts))
            legacy[key] = a.digest
            first.append((a, ev))
        new, reused = await ingest_keys.claim_event_keys(conn, keys=keys, legacy=legacy)
        fresh = []
        for a, ev in first:
            key = (str(a.enterprise_id), ev.event_id)
            if key in new:
                fresh.append((a, ev))
            elif key in reused:
                work.refused.append(_reused(a, ev.event_id))
            else:
                dups += 1
                work.duplicates.append(a.msg)
        return fresh, dups

    async def _events(
        self,
        conn: AsyncConnection[Any],
        events: list[tuple[Accepted, EventBase]],
        work: Work,
        now: datetime,
    ) -> list[tuple[Accepted, EventBase]]:
        """Apply events in event-time order per enterprise: in order one step at a time (the fast
        path), or by a replay of the enterprise when one is older than the last applied one;
        the events stored (maintenance starts beyond the bureau's bound are refused)."""
        if not events:
            return events
        # The status rows were created by _activity; this locks them (sorted) and reads the key
        # of each enterprise's last applied event, so two workers never interleave one.
        applied = await order_store.lock_order(conn, ents=[a.enterprise_id for a, _ in events])
        events = await refuse_over_limit(conn, events, work, self.policy.max_open_maintenance)
        if not events:
            return events
        horizon = now - self.policy.replay_horizon
        by_ent: dict[str, list[tuple[Accepted, EventBase, Logged]]] = {}
        per_ent: dict[EnterpriseId, Counter[str]] = {}
        for a, ev in events:
            by_ent.setdefault(a.enterprise_id, []).append((a, ev, to_logged(ev)))
            per_ent.setdefault(a.enterprise_id, Counter())[ev.type] += 1
            if ev.type in _CROSS_CHECKED:
                work.days.add((a.enterprise_id, self.bureau_day(ev.ts)))
        fast: list[tuple[Accepted, EventBase, Logged]] = []
        late: dict[str, list[Logged]] = {}
        flags: list[tuple[str, str, datetime, str]] = []
        for ent, items in sorted(by_ent.items()):
            items.sort(key=lambda t: t[2].ordered.key)
            last = applied.get(ent)
            behind = {id(t) for t in items if last is not None and t[2].ordered.key < last}
            beyond = {id(t) for t in items if id(t) in behind and t[1].ts < horizon}
            for t in items:
                if id(t) in behind:
                    flag = "beyond_horizon" if id(t) in beyond else "late"
                    flags.append((ent, t[1].event_id, t[1].ts, flag))
            if behind - beyond:
                late[ent] = [t[2] for t in items if id(t) not in beyond]
            else:
                fast.extend(t for t in items if id(t) not in beyond)
        if beyond_count := sum(1 for f in flags if f[3] == "beyond_horizon"):
            metrics.EVENTS_BEYOND_HORIZON.inc(beyond_count)
            log.warning("%d events older than the replay horizon stored, not applied", beyond_count)
        statuses, order = await self._in_order(conn, fast, work)
        for ent in sorted(late):
            r = await event_order.replay_enterprise(
                conn, ent=ent, batch=late[ent], parse=parse_logged, policies=self.policies, now=now
            )
            metrics.REPLAYS.inc()
            statuses[EnterpriseId(ent)] = r.status
            work.add(r.alarm_actions)
            work.live.extend(r.changes)
            await so_store.insert_tests(conn, tests=r.tests)
            if r.last_key is not None:
                order[ent] = r.last_key
        await order_store.save_order(conn, keys=order)
        await event_store.copy_events(
            conn,
            rows=[
                event_store.EventRow(
                    ev.ts, a.enterprise_id, ev.event_id, ev.type, a.msg.payload.decode()
                )
                for a, ev in events
            ],
            received_at=utcnow(),
        )
        await order_store.flag_events(conn, flags=flags)
        for ent_id, counts in sorted(per_ent.items()):
            work.live.append(("event", ent_id, {"types": dict(counts)}))
        for ent_id in sorted(statuses):
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
        return events

    async def _in_order(
        self,
        conn: AsyncConnection[Any],
        events: list[tuple[Accepted, EventBase, Logged]],
        work: Work,
    ) -> tuple[dict[EnterpriseId, st.EnterpriseStatus], dict[str, rp.OrderKey]]:
        """The fast path: events newer than each enterprise's last one, applied one step at a
        time (sorted per enterprise); the changed statuses and the new order keys."""
        order: dict[str, rp.OrderKey] = {}
        if not events:
            return {}, order
        # Only enterprises with status events need their status (and open maintenance) read;
        # operation events never change it, so the others start from a placeholder never saved.
        statuses = await enterprise_status.lock_statuses(
            conn, ents=[a.enterprise_id for a, ev, _ in events if isinstance(ev, STATUS_EVENTS)]
        )
        op_keys = [(a.enterprise_id, str(ev.op_id)) for a, ev, _ in events if hasattr(ev, "op_id")]
        ops = await so_store.lock_ops(conn, keys=op_keys)
        needs_prior = [
            (a.enterprise_id, ev.op_id)
            for a, ev, _ in events
            if isinstance(ev, SpecialOpStartEvent) and ev.gas_test is None
        ]
        prior: dict[tuple[str, str], GasReading] = await so_store.latest_tests(
            conn, keys=needs_prior
        )
        # A start is judged with the enterprise's other open operations (guardians, the work a
        # temporary power serves) and whether a video session of the site is live.
        start_ents = sorted(
            {a.enterprise_id for a, ev, _ in events if isinstance(ev, SpecialOpStartEvent)}
        )
        others = await so_store.open_ops_of(conn, ents=start_ents)
        live = await so_store.live_video_enterprises(conn, ents=start_ents) if start_ents else set()
        ops_of: dict[str, dict[str, SpecialOp]] = {}
        for o in others:
            ops_of.setdefault(o.enterprise_id, {})[str(o.op_id)] = o
        for (e, op), o in ops.items():
            ops_of.setdefault(e, {})[op] = o
        prior_of: dict[str, dict[str, GasReading]] = {}
        for (e, op), r in prior.items():
            prior_of.setdefault(e, {})[op] = r
        states: dict[str, rp.EnterpriseState] = {}
        for ent in {a.enterprise_id for a, _, _ in events}:
            states[ent] = rp.EnterpriseState(
                statuses.get(EnterpriseId(ent)) or st.EnterpriseStatus(EnterpriseId(ent)),
                ops_of.get(ent, {}),
                prior_of.get(ent, {}),
                video_live=ent in live,
            )
        changed_status: set[EnterpriseId] = set()
        changed_ops: set[tuple[str, str]] = set()
        tests: list[tuple[str, str, GasReading, list[str], str | None]] = []
        requests: list[tuple[str, dict[str, Any]]] = []
        maint_starts: list[tuple[str, st.Maintenance]] = []
        maint_ends: list[tuple[str, str, datetime]] = []
        voided: set[EnterpriseId] = set()
        for a, _, lg in events:
            ent = a.enterprise_id
            ev = lg.ordered.event
            # Open jobs are read from their newest version only (O(1); see st.OpenJobs).
            ending = isinstance(ev, st.MaintenanceEnd) and (
                states[ent].status.maintenance.get(ev.maint_id) is not None
            )
            s = rp.step(states[ent], ev, self.policies)
            states[ent] = s.state
            order[ent] = lg.ordered.key
            work.add(s.outcome)
            if s.status_changed:
                changed_status.add(ent)
            if s.voided_request:
                voided.add(ent)
            if s.new_request is not None and lg.request_row is not None:
                requests.append((ent, lg.request_row))
            if isinstance(ev, st.MaintenanceStart):
                job = s.state.status.maintenance.get(ev.maint_id)
                assert job is not None  # st.apply opens it
                maint_starts.append((ent, job))
            elif ending and isinstance(ev, st.MaintenanceEnd):
                maint_ends.append((ent, ev.maint_id, ev.ts))
            if s.test is not None:
                t = s.test
                tests.append((ent, str(t.op_id), t.reading, t.problems, t.event_id))
            if s.op_changed is not None:
                changed_ops.add((ent, s.op_changed))
        out = {e: states[e].status for e in changed_status}
        await enterprise_status.save_statuses(
            conn, statuses=[out[e] for e in sorted(changed_status)]
        )
        await enterprise_status.start_maintenance(conn, jobs=maint_starts)
        await enterprise_status.end_maintenance(conn, ends=maint_ends)
        await so_store.save_ops(conn, ops=[states[e].ops[op] for e, op in sorted(changed_ops)])
        await so_store.insert_tests(conn, tests=tests)
        await self._requests(conn, requests, work)
        touched = voided | {EnterpriseId(ent) for ent, _ in requests}
        if touched:
            await restart_requests.supersede_pending(
                conn, keep={e: states[e].status.restart_request for e in touched}
            )
        return out, order

    async def _requests(
        self,
        conn: AsyncConnection[Any],
        requests: list[tuple[str, dict[str, Any]]],
        work: Work,
    ) -> None:
        ids = await restart_requests.insert_requests(
            conn, requests=[{"ent": e, **row} for e, row in requests]
        )
        for (ent, row), request_id in zip(requests, ids, strict=True):
            if request_id is not None:
                work.live.append(
                    (
                        "restart_request",
                        ent,
                        {"id": request_id, "event_id": row["event_id"], "state": "pending"},
                    )
                )

    def rejected_row(self, r: Refused, now: datetime) -> rejected_messages.RejectedRow:
        """The stored form of a refusal (payload truncated)."""
        return rejected_messages.RejectedRow(
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
