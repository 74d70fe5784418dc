"""The MQTT ingest loop: check → store in one transaction per batch → acknowledge → answer.

Nothing is acknowledged before the transaction that stores it has committed, so a crash loses
nothing (the broker redelivers) and the exactly-once keys make the redelivery harmless. When the
database is unavailable the batch is retried until it succeeds; when one message makes the whole
batch fail for another reason, the batch is bisected and only that message is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from config.policy_monitoring import MonitoringPolicy, load_monitoring_policy
from config.settings import Settings
from domain.alarms import Rule
from domain.clock import utcnow
from domain.errors import SafewatchError, StorageUnavailable
from domain.i18n import ZH, msg, render
from monitor import metrics
from monitor.batch import BatchResult, Caches
from monitor.guidance import DownlinkPublisher
from monitor.mqtt_client import IngestClient
from monitor.parse import (
    Accepted,
    Checked,
    Ignored,
    Inbound,
    Limits,
    Refused,
    body_ref,
    check,
    event_ref,
    outside_tag_range,
)
from monitor.portal import PortalIntake
from monitor.processor import Processor
from monitor.topics import Downlink, RejectCode, TopicOk, Topics
from storage import alarms, enterprises, rejected_messages, telemetry_tags
from storage.pool import make_pool

log = logging.getLogger(__name__)

BATCH_MAX = 1000
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 5.0
KNOWN_REFRESH_S = 60.0
CACHE_REFRESH_S = 5.0
NEGATIVE_TTL_S = 10.0
#: While bisecting a failed batch, a part may take this long per message before it counts as
#: failed (a message that makes the database spin must not hold everyone else back).
ISOLATE_CAP_S = 10.0
CONNECT_TIMEOUT_S = 3


class TransientStorageError(Exception):
    """The database could not take the batch right now; retry it."""


class _Unfinished(Exception):
    """Stopping while the database is away in the middle of a bisection: acknowledge nothing."""


def is_transient(exc: BaseException) -> bool:
    """Whether an error means "try the same batch again later"."""
    if isinstance(exc, StorageUnavailable | PoolTimeout | TransientStorageError):
        return True
    cause = exc.__cause__ if isinstance(exc, SafewatchError) else exc
    return isinstance(
        cause,
        psycopg.OperationalError
        | psycopg.InterfaceError
        | psycopg.errors.TransactionRollback
        | psycopg.errors.AdminShutdown,
    )


class Ingest:
    """The ingest of one monitor process (tests and the benchmark run it in-process)."""

    def __init__(
        self,
        settings: Settings,
        pool: AsyncConnectionPool,
        *,
        policy: MonitoringPolicy | None = None,
        client_id: str | None = None,
    ) -> None:
        """Wire the parts; nothing runs before `run()`."""
        self.settings = settings
        self.pool = pool
        self.policy = policy or load_monitoring_policy(settings.policy_dir)
        self.topics = Topics(settings.mqtt_topic_prefix)
        self.limits = Limits(
            self.policy.max_payload_bytes,
            self.policy.max_future_skew,
            self.policy.planning_horizon,
            self.policy.max_permit,
            self.policy.max_abs_value,
        )
        self.caches = Caches()
        self.processor = Processor(self.policy, settings.tz, self.caches)
        self.client = IngestClient(
            settings, self.topics.subscription(settings.mqtt_shared_group), client_id=client_id
        )
        self.downlinks = DownlinkPublisher(self.pool, self.client, self.topics, self.policy)
        self._known_at = 0.0
        self._negative: dict[str, float] = {}
        self._cache_at = 0.0
        self._registry_version: tuple[int, Any] | None = None
        self.stored_batches = 0
        self.stored_events = 0
        #: Batches or parts of batches attempted in one transaction (bisection adds some).
        self.transactions = 0
        self._conn: psycopg.AsyncConnection[Any] | None = None
        # The MQTT consumer and the portal intake share the connection: one batch at a time.
        self._store_lock = asyncio.Lock()
        self.portal = PortalIntake(settings.database_url, pool, self.topics, self.store_batch)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; then finish the batch at hand and disconnect."""
        await self.client.start()
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self.downlinks.run(stop))
                group.create_task(self._consume(stop))
                group.create_task(self.portal.run(stop))
        finally:
            await self.client.stop()
            await self._drop_connection()
            log.info(
                "ingest stopped after storing %d events in %d batches",
                self.stored_events,
                self.stored_batches,
            )

    async def handle(
        self, batch: list[Inbound], stop: asyncio.Event | None = None
    ) -> list[Refused]:
        """Store, acknowledge and answer one batch exactly as the consumer loop does (the loop
        takes batches from the broker; tests and benchmarks hand them in); the refusals."""
        result = await self._handle(batch, stop or asyncio.Event())
        return result.refused if result is not None else []

    async def close(self) -> None:
        """Close the ingest's database connection (`run()` does this when it stops)."""
        await self._drop_connection()

    async def _consume(self, stop: asyncio.Event) -> None:
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                waiting = asyncio.create_task(self.client.wait_for_messages())
                await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not waiting.done():
                    waiting.cancel()
                    break
                batch = self.client.take(BATCH_MAX)
                if batch:
                    await self._handle(batch, stop)
        finally:
            stopping.cancel()

    async def _handle(self, batch: list[Inbound], stop: asyncio.Event) -> BatchResult | None:
        """Store a batch, then acknowledge and answer it; None when stopped before it was
        settled (the broker keeps it)."""
        result = await self.store_batch(batch, stop)
        if result is None:
            return None
        self.client.ack(batch)
        self.stored_batches += 1
        self.stored_events += result.events
        self._answer(result.refused)
        if self.settings.mqtt_receipts:
            self._receipts(batch, result)
        return result

    async def store_batch(self, batch: list[Inbound], stop: asyncio.Event) -> BatchResult | None:
        """Store a batch (MQTT messages or portal reports) one batch at a time: retried while
        the database is away, bisected when one message fails it; None when stopping first."""
        async with self._store_lock:
            return await self._store_retrying(batch, stop)

    async def _store_retrying(
        self, batch: list[Inbound], stop: asyncio.Event
    ) -> BatchResult | None:
        delay = RETRY_FIRST_S
        while True:
            try:
                started = time.perf_counter()
                result = await self._store(batch)
                metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
                metrics.BATCH_SIZE.observe(len(batch))
                return result
            except Exception as exc:
                if not is_transient(exc):
                    log.warning(
                        "batch of %d failed (%s); bisecting to find the culprit",
                        len(batch),
                        _first(exc),
                    )
                    try:
                        return await self._isolate(batch, stop)
                    except _Unfinished:
                        log.warning("stopping mid-bisection; the broker keeps the batch")
                        return None
                metrics.DB_RETRIES.inc()
                log.warning(
                    "database unavailable (%s); batch of %d kept, retrying", exc, len(batch)
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                if stop.is_set():
                    log.warning(
                        "stopping with %d unstored messages (the broker keeps them)", len(batch)
                    )
                    return None
                delay = min(delay * 2, RETRY_MAX_S)

    async def _store(self, batch: list[Inbound]) -> BatchResult:
        self.transactions += 1
        now = utcnow()
        checked = [check(m, self.topics, self.limits, now) for m in batch]
        conn = await self._connection()
        try:
            await self._refresh_caches(conn)
            accepted, refused = await self._split(conn, checked)
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                await conn.commit()
            async with conn.transaction():
                result = await self.processor.process(conn, accepted, refused)
        except psycopg.Error as exc:
            # The database refused the data (not the connection): keep the connection, so that
            # bisecting a batch costs transactions, not reconnections.
            if is_transient(exc) or conn.broken or not await _rolled_back(conn):
                await self._drop_connection()
            raise
        except BaseException:
            await self._drop_connection()
            raise
        for a in accepted:
            metrics.MESSAGES.labels(a.kind.value).inc()
        metrics.EVENTS_STORED.inc(result.events)
        metrics.POINTS_STORED.inc(result.points)
        return result

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        """The ingest's own connection (a batch at a time needs one), reopened after failures so
        that the first retry after an outage reaches the database at once."""
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self.settings.database_url, connect_timeout=CONNECT_TIMEOUT_S
                )
            except psycopg.OperationalError as exc:
                raise TransientStorageError(str(exc).splitlines()[0]) from exc
            self._conn = conn
        return conn

    async def _drop_connection(self) -> None:
        """Forget the connection after an error (rolled back and closed)."""
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            with contextlib.suppress(psycopg.Error):
                await conn.close()

    async def _split(
        self, conn: Any, checked: list[Checked]
    ) -> tuple[list[Accepted], list[Refused]]:
        accepted: list[Accepted] = []
        refused: list[Refused] = []
        for c in checked:
            if isinstance(c, Ignored):
                continue
            if isinstance(c, Refused):
                refused.append(c)
            elif await self._known(conn, c.enterprise_id):
                outside = outside_tag_range(c, self.caches.registry)
                if outside is None:
                    accepted.append(c)
                else:
                    refused.append(outside)
            else:
                refused.append(
                    Refused(
                        c.msg,
                        RejectCode.ENTERPRISE_UNKNOWN,
                        f"enterprise {c.enterprise_id} is not in the directory (or deregistered)",
                        c.enterprise_id,
                        body_ref(c.body),
                    )
                )
        return accepted, refused

    async def _known(self, conn: Any, code: str) -> bool:
        if code in self.caches.known:
            return True
        until = self._negative.get(code)
        if until is not None and until > time.monotonic():
            return False
        if await enterprises.enterprise_active(conn, code=code):
            self.caches.known.add(code)
            return True
        self._negative[code] = time.monotonic() + NEGATIVE_TTL_S
        return False

    async def _refresh_caches(self, conn: Any) -> None:
        mono = time.monotonic()
        if mono - self._known_at > KNOWN_REFRESH_S:
            self.caches.known = await enterprises.known_enterprises(conn)
            self._negative.clear()
            self._known_at = mono
        if mono - self._cache_at > CACHE_REFRESH_S:
            version = await telemetry_tags.registry_version(conn)
            if version != self._registry_version:
                self.caches.registry = await telemetry_tags.registry(conn)
                by_ent: dict[str, set[str]] = {}
                for ent, tag in self.caches.registry:
                    by_ent.setdefault(ent, set()).add(tag)
                self.caches.registered = {e: frozenset(t) for e, t in by_ent.items()}
                self._registry_version = version
            self.caches.stale_open = {
                (str(e), s) for e, s in await alarms.open_subjects(conn, rule=Rule.TELEMETRY_STALE)
            }
            self.caches.offline_open = {
                str(e) for e, _ in await alarms.open_subjects(conn, rule=Rule.OFFLINE)
            }
            self._cache_at = mono

    async def _isolate(self, batch: list[Inbound], stop: asyncio.Event) -> BatchResult:
        """Bisect a failed batch: store each half; a half that fails is split again, a single
        message that fails (or takes longer than the cap) is refused and stored as refused.
        k bad messages in n cost about 2·k·log2(n/k) transactions instead of n."""
        total = BatchResult([], 0, 0, 0, 0)
        parts: deque[list[Inbound]] = deque(_halves(batch))
        while parts:
            part = parts.popleft()
            try:
                r = await asyncio.wait_for(self._store(part), ISOLATE_CAP_S * len(part))
            except Exception as exc:
                if is_transient(exc):
                    if stop.is_set():
                        raise _Unfinished from exc
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), RETRY_FIRST_S)
                    parts.appendleft(part)
                    continue
                if len(part) > 1:
                    parts.extendleft(reversed(_halves(part)))
                    continue
                r = await self._refuse_alone(part[0], exc)
            total = _merge(total, r)
        return total

    async def _refuse_alone(self, m: Inbound, exc: BaseException) -> BatchResult:
        where = self.topics.parse(m.topic)
        ent = getattr(where, "enterprise_id", None)
        ref = event_ref(m)
        why = (
            f"took longer than {ISOLATE_CAP_S:g} s"
            if isinstance(exc, TimeoutError)
            else exc.__class__.__name__
        )
        # One line per refusal, no traceback: the cause is the message, not the code.
        log.warning(
            "refused a message on %s that could not be stored: %s",
            m.topic,
            _first(exc),
            extra={"enterprise": ent, "event_id": ref},
        )
        refusal = Refused(
            m,
            RejectCode.STORAGE_REFUSED,
            f"the message could not be stored ({why})",
            ent,
            ref,
        )
        try:
            conn = await self._connection()
            async with conn.transaction():
                await rejected_messages.insert_rejected(
                    conn, rows=[self.processor.rejected_row(refusal, utcnow())]
                )
        except Exception as again:
            log.error(
                "could not even store the refusal of a message on %s: %s",
                m.topic,
                again,
                extra={"enterprise": ent, "event_id": ref},
            )
        return BatchResult([refusal], 0, 0, 0, 0)

    def _receipts(self, batch: list[Inbound], result: BatchResult) -> None:
        """Sandbox / conformance mode: a verdict for every message on …/receipt (QoS 1)."""
        for ent, body in receipt_bodies(batch, result, self.topics):
            topic = self.topics.downlink(ent, Downlink.RECEIPT)
            self.client.publish(topic, json.dumps(body, ensure_ascii=False).encode(), qos=1)

    def _answer(self, refused: list[Refused]) -> None:
        """Count refusals and answer each on …/reject (QoS 1), queued together (one wake-up of
        the network thread per batch, not one per refusal)."""
        answers: list[tuple[str, bytes]] = []
        for r in refused:
            metrics.REJECTED.labels(r.code.value).inc()
            if r.enterprise_id is None or not _topic_safe(r.enterprise_id):
                continue
            body = {
                "ref": r.ref,
                "topic": r.msg.topic,
                "code": r.code.value,
                "reason": r.reason,
                "message": reject_message(r.code),
            }
            topic = self.topics.downlink(r.enterprise_id, Downlink.REJECT)
            answers.append((topic, json.dumps(body, ensure_ascii=False).encode()))
        self.client.publish_many(answers, qos=1)


def receipt_bodies(
    batch: list[Inbound], result: BatchResult, topics: Topics
) -> list[tuple[str, dict[str, Any]]]:
    """Sandbox mode: (enterprise, verdict) for every uplink of a stored batch — refused (with
    code and reason), duplicate (a redelivery or rebuilt retry stored before) or stored."""
    refused = {id(r.msg): r for r in result.refused}
    duplicate = {id(m) for m in result.duplicate_msgs}
    out: list[tuple[str, dict[str, Any]]] = []
    for m in batch:
        where = topics.parse(m.topic)
        r = refused.get(id(m))
        if r is not None:
            if r.enterprise_id is None or not _topic_safe(r.enterprise_id):
                continue
            body: dict[str, Any] = {"topic": m.topic, "ref": r.ref, "verdict": "refused"}
            body.update({"code": r.code.value, "reason": r.reason})
            out.append((r.enterprise_id, body))
        elif isinstance(where, TopicOk):
            verdict = "duplicate" if id(m) in duplicate else "stored"
            out.append(
                (where.enterprise_id, {"topic": m.topic, "ref": event_ref(m), "verdict": verdict})
            )
    return out


def reject_message(code: RejectCode, lang: str = ZH) -> str:
    """What the site must fix, in zh-CN (the catalogue's `reject.<code>`), beside the stable
    code and the English technical reason (docs/protocol.md, reject codes)."""
    return render(msg(f"reject.{code.value}"), lang)


async def _rolled_back(conn: psycopg.AsyncConnection[Any]) -> bool:
    try:
        await conn.rollback()
    except psycopg.Error:
        return False
    return conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def _halves(batch: list[Inbound]) -> list[list[Inbound]]:
    mid = (len(batch) + 1) // 2
    return [batch[:mid], batch[mid:]] if len(batch) > 1 else [batch]


def _merge(a: BatchResult, b: BatchResult) -> BatchResult:
    return BatchResult(
        a.refused + b.refused,
        a.events + b.events,
        a.duplicates + b.duplicates,
        a.points + b.points,
        a.alarms_changed + b.alarms_changed,
        a.duplicate_msgs + b.duplicate_msgs,
    )


def _first(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0][:200]}" if text else exc.__class__.__name__


def _topic_safe(segment: str) -> bool:
    return 0 < len(segment) <= 64 and not any(c in segment for c in "/+#\x00")


async def run(
    settings: Settings, stop: asyncio.Event, *, policy: MonitoringPolicy | None = None
) -> None:
    """Entry point called by monitor/service.py: open the pool, consume with the policy given
    by the composition root (read from settings.policy_dir when not given)."""
    policy = policy or load_monitoring_policy(settings.policy_dir)
    pool = make_pool(settings.database_url, min_size=1, max_size=4)
    await pool.open(wait=False)
    try:
        await Ingest(settings, pool, policy=policy).run(stop)
    finally:
        await pool.close()
