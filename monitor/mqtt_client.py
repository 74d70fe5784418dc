"""The ingest's paho client: MQTT 5 persistent session, manual acks, a queue to the asyncio loop.

Paho's network thread only appends an `Inbound` to a deque and wakes the loop when it sleeps.
What is in flight is bounded by the broker: QoS 1 messages stop coming once `receive_maximum`
are unacknowledged, and we acknowledge only after the batch that stores them has committed.
QoS 0 messages are not bounded by the broker, so the deque drops them beyond `qos0_cap`.

Each connection has a generation number. An acknowledgement is sent only on the connection that
delivered the message: after a reconnect the broker redelivers unacknowledged messages with the
same packet ids, and acknowledging a stale id could acknowledge a different, unstored message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from config.settings import Settings
from monitor import metrics
from monitor.parse import Inbound

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600
RECEIVE_MAXIMUM = 1000
QOS0_CAP = 20000


class IngestClient:
    """One MQTT 5 connection that feeds a deque and acknowledges on request."""

    def __init__(
        self,
        settings: Settings,
        subscription: str,
        *,
        client_id: str | None = None,
        receive_maximum: int = RECEIVE_MAXIMUM,
        qos0_cap: int = QOS0_CAP,
    ) -> None:
        """Prepare the client; nothing connects before `start()`."""
        self.subscription = subscription
        self.shared = subscription.startswith("$share/")
        self.queue: deque[Inbound] = deque()
        self.generation = 0
        self.connected = False
        self.session_present = False
        self._qos0_cap = qos0_cap
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = asyncio.Event()
        self._connected_once = asyncio.Event()
        self._subscribed_once = asyncio.Event()
        self._wake_pending = False
        self._lock = threading.Lock()
        self._settings = settings
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id or settings.mqtt_client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if settings.mqtt_username is not None:
            client.username_pw_set(settings.mqtt_username, settings.mqtt_password)
        if settings.mqtt_tls:
            ca = str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None
            client.tls_set(ca_certs=ca, cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(min_delay=1, max_delay=15)
        client.max_inflight_messages_set(1000)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        self._receive_maximum = receive_maximum
        self.client = client

    async def start(self) -> None:
        """Connect in the background (paho retries until the broker answers)."""
        self._loop = asyncio.get_running_loop()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = self._receive_maximum
        self.client.connect_async(
            self._settings.mqtt_host,
            self._settings.mqtt_port,
            keepalive=30,
            clean_start=False,
            properties=props,
        )
        self.client.loop_start()

    async def wait_connected(self, timeout: float) -> bool:  # noqa: ASYNC109 - simple bound
        """Wait for the first successful connection."""
        try:
            await asyncio.wait_for(self._connected_once.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def wait_subscribed(self, timeout: float) -> bool:  # noqa: ASYNC109 - simple bound
        """Wait until the broker granted the subscription (SUBACK) at least once."""
        try:
            await asyncio.wait_for(self._subscribed_once.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        """Disconnect cleanly (the session and unacknowledged messages stay at the broker)."""
        self.client.disconnect()
        await asyncio.to_thread(self.client.loop_stop)

    async def wait_for_messages(self) -> None:
        """Sleep until something arrives (returns at once if the queue is not empty)."""
        self._ready.clear()
        if self.queue:
            return
        with self._lock:
            self._wake_pending = False
        if self.queue:
            return
        await self._ready.wait()

    def take(self, limit: int, max_bytes: int = 1 << 20) -> list[Inbound]:
        """Up to `limit` messages and about `max_bytes` of payload, oldest first.

        The byte bound keeps batches of big telemetry messages small, so that acknowledging one
        batch lets the broker send the next while this one is stored (the broker stops at its
        in-flight window until we acknowledge).
        """
        out: list[Inbound] = []
        q = self.queue
        size = 0
        while q and len(out) < limit and size < max_bytes:
            m = q.popleft()
            size += len(m.payload)
            out.append(m)
        metrics.QUEUE_DEPTH.set(len(q))
        return out

    def ack(self, items: Sequence[Inbound]) -> int:
        """Acknowledge stored messages that came on the current connection; return how many."""
        sent = 0
        gen = self.generation
        if not self.connected:
            return 0
        with self._one_wake():
            for m in items:
                if m.qos > 0 and m.generation == gen:
                    self.client.ack(m.mid, m.qos)
                    sent += 1
        return sent

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> bool:
        """Queue a publication; False when not connected or paho refused it."""
        if not self.connected:
            return False
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def publish_many(self, items: Sequence[tuple[str, bytes]], *, qos: int = 1) -> int:
        """Queue several publications with one wake-up of paho's thread; return how many were
        queued (none when not connected)."""
        if not self.connected or not items:
            return 0
        queued = 0
        with self._one_wake():
            for topic, payload in items:
                info = self.client.publish(topic, payload, qos=qos)
                queued += info.rc == mqtt.MQTT_ERR_SUCCESS
        return queued

    @contextlib.contextmanager
    def _one_wake(self) -> Iterator[None]:
        # paho wakes its network thread with one socket write per queued packet; for a batch of
        # acks or answers one wake-up is enough (about a fifth of the ingest's CPU at full rate
        # otherwise).
        wake = getattr(self.client, "_sockpairW", None)
        if wake is not None:
            self.client._sockpairW = None
        try:
            yield
        finally:
            if wake is not None:
                self.client._sockpairW = wake
                with contextlib.suppress(BlockingIOError, OSError):
                    wake.send(b"0")

    # --- paho thread -----------------------------------------------------------------------

    def _wake(self) -> None:
        with self._lock:
            if self._wake_pending:
                return
            self._wake_pending = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._ready.set)

    def _on_connect(
        self, client: mqtt.Client, _ud: Any, flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker refused the ingest connection: %s", reason)
            return
        self.generation += 1
        self.connected = True
        self.session_present = bool(getattr(flags, "session_present", False))
        metrics.CONNECTED.set(1)
        options = SubscribeOptions(qos=1, noLocal=not self.shared)
        client.subscribe(self.subscription, options=options)
        log.info(
            "ingest connected (generation %d, session present %s), subscribed to %s",
            self.generation,
            self.session_present,
            self.subscription,
        )
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._connected_once.set)
        self._wake()

    def _on_subscribe(
        self, _client: mqtt.Client, _ud: Any, _mid: int, reasons: Any, _props: Any
    ) -> None:
        if any(r.is_failure for r in reasons):
            log.error("broker refused the subscription to %s: %s", self.subscription, reasons)
            return
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._subscribed_once.set)

    def _on_disconnect(
        self, _client: mqtt.Client, _ud: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        self.connected = False
        metrics.CONNECTED.set(0)
        log.warning("ingest disconnected from the broker: %s", reason)

    def _on_message(self, _client: mqtt.Client, _ud: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.qos == 0 and len(self.queue) >= self._qos0_cap:
            metrics.DROPPED_QOS0.inc()
            return
        self.queue.append(
            Inbound(
                topic=msg.topic,
                payload=bytes(msg.payload),
                qos=msg.qos,
                mid=msg.mid,
                retain=bool(msg.retain),
                generation=self.generation,
                received=time.time(),
            )
        )
        self._wake()
