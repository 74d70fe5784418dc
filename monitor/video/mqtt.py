"""A small asyncio wrapper around one paho client (video signaller and site agent)."""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from domain.errors import ConfigurationError
from monitor.video.signalling import InboundHandler

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MqttOptions:
    """Where and as whom to connect; `will` is (topic, payload, retain)."""

    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None
    keepalive: int = 30
    will: tuple[str, bytes, bool] | None = None
    #: > 0: a persistent session (clean_start=false, MQTT 5 Session Expiry Interval), so
    #: downlinks sent while disconnected arrive after reconnecting (docs/protocol.md).
    session_expiry_s: int = 0


class MqttLink:
    """One MQTT 5 connection: subscriptions restored on every (re)connect, async publish.

    Paho's network thread hands each message to the asyncio loop; handler errors are logged and
    never reach the client loop, and paho reconnects on its own with a growing delay.
    """

    def __init__(
        self, options: MqttOptions, subscriptions: list[str], handler: InboundHandler | None
    ) -> None:
        """Prepare a link; nothing connects before `start()`."""
        self._options = options
        self._subscriptions = list(subscriptions)
        self._handler = handler
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connected: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=options.client_id,
            protocol=mqtt.MQTTv5,
        )
        if options.username is not None:
            client.username_pw_set(options.username, options.password)
        if options.tls:
            client.tls_set(ca_certs=options.ca_file, cert_reqs=ssl.CERT_REQUIRED)
        if options.will is not None:
            topic, payload, retain = options.will
            client.will_set(topic, payload, qos=1, retain=retain)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client
        #: (topic, payload maker, retain) published at QoS 1 on every (re)connection.
        self.birth: tuple[str, Callable[[], bytes], bool] | None = None

    @property
    def is_connected(self) -> bool:
        """Whether the client is connected right now."""
        return bool(self._client.is_connected())

    async def start(self, *, connect_timeout: float = 10.0, required: bool = True) -> None:
        """Connect and wait for the first CONNACK.

        A refused connection raises ConfigurationError and an unreachable broker too when
        `required`; otherwise this returns at once and paho keeps (re)connecting in the background.
        """
        self._loop = asyncio.get_running_loop()
        self._connected = self._loop.create_future() if required else None
        opts = self._options
        properties = None
        if opts.session_expiry_s > 0:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = opts.session_expiry_s
        self._client.connect_async(
            opts.host,
            opts.port,
            keepalive=opts.keepalive,
            clean_start=opts.session_expiry_s <= 0,
            properties=properties,
        )
        self._client.loop_start()
        if self._connected is None:
            return
        try:
            async with asyncio.timeout(connect_timeout):
                await self._connected
        except TimeoutError:
            await self.stop()
            raise ConfigurationError(
                f"MQTT broker {opts.host}:{opts.port} did not accept a connection within "
                f"{connect_timeout:g} s"
            ) from None
        except ConfigurationError:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Disconnect and stop the network thread; pending handler tasks are awaited."""
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def publish(
        self,
        topic: str,
        payload: Mapping[str, Any] | bytes,
        *,
        retain: bool = False,
        wait: float | None = None,
    ) -> None:
        """Publish at QoS 1 (queued by paho while disconnected); with `wait`, await the PUBACK."""
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        info = self._client.publish(topic, data, qos=1, retain=retain)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            raise ConnectionError(f"MQTT publish to {topic} failed: {mqtt.error_string(info.rc)}")
        if wait is not None:
            await asyncio.to_thread(info.wait_for_publish, wait)
            if not info.is_published():
                raise TimeoutError(f"MQTT broker did not acknowledge {topic} within {wait:g} s")

    # paho callbacks, on paho's network thread

    def _on_connect(
        self, client: mqtt.Client, _ud: object, _flags: object, reason: Any, _props: object
    ) -> None:
        if reason.is_failure:
            log.error("MQTT connection refused: %s", reason)
            self._resolve(ConfigurationError(f"MQTT broker refused the connection: {reason}"))
            return
        for topic in self._subscriptions:
            client.subscribe(topic, qos=1)
        birth = self.birth
        if birth is not None:  # e.g. the site's presence after every (re)connection
            topic, make, retain = birth
            client.publish(topic, make(), qos=1, retain=retain)
        log.info(
            "MQTT connected as %s (%d subscriptions)",
            self._options.client_id,
            len(self._subscriptions),
        )
        self._resolve(None)

    def _on_disconnect(
        self, _c: mqtt.Client, _ud: object, _flags: object, reason: Any, _props: object
    ) -> None:
        if reason is not None and getattr(reason, "is_failure", False):
            log.warning("MQTT disconnected (%s); paho reconnects", reason)

    def _on_message(self, _c: mqtt.Client, _ud: object, msg: mqtt.MQTTMessage) -> None:
        loop = self._loop
        if loop is None or self._handler is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._dispatch, msg.topic, bytes(msg.payload))

    def _resolve(self, error: Exception | None) -> None:
        loop, fut = self._loop, self._connected
        if loop is None or fut is None or loop.is_closed():
            return

        def settle() -> None:
            if fut.done():
                return
            if error is None:
                fut.set_result(None)
            else:
                fut.set_exception(error)

        loop.call_soon_threadsafe(settle)

    def _dispatch(self, topic: str, payload: bytes) -> None:
        handler = self._handler
        if handler is None:
            return
        task = asyncio.ensure_future(self._guard(handler, topic, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guard(handler: InboundHandler, topic: str, payload: bytes) -> None:
        try:
            await handler(topic, payload)
        except Exception:  # one bad message never stops the link
            log.exception("video signalling handler failed on %s", topic[:120])


class MqttSignaller:
    """The `Signaller` over an `MqttLink`."""

    def __init__(self, link: MqttLink) -> None:
        """Publish through `link`."""
        self._link = link

    @property
    def connected(self) -> bool:
        """Whether the link is connected to the broker now."""
        return self._link.is_connected

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        """Publish `payload` as JSON at QoS 1."""
        await self._link.publish(topic, payload)
