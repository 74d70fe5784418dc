"""Health of what a process depends on: the database (one round trip) and the broker (an MQTT
CONNECT → CONNACK probe, independent of paho). Health reports, never raises."""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import struct
from collections.abc import Awaitable, Callable

from psycopg_pool import AsyncConnectionPool

from config.settings import Settings
from storage.pool import ping


def _connect_packet(client_id: str, username: str | None, password: str | None) -> bytes:
    def field(text: str) -> bytes:
        data = text.encode()
        return struct.pack("!H", len(data)) + data

    flags = 0x02  # clean session
    payload = field(client_id)
    if username is not None:
        flags |= 0x80
        payload += field(username)
        if password is not None:
            flags |= 0x40
            payload += field(password)
    variable = field("MQTT") + bytes([4, flags]) + struct.pack("!H", 10)
    body = variable + payload
    length = len(body)
    encoded = bytearray()
    while True:
        byte, length = length % 128, length // 128
        encoded.append(byte | (0x80 if length else 0))
        if not length:
            break
    return bytes([0x10]) + bytes(encoded) + body


async def probe_broker(
    host: str,
    port: int,
    *,
    username: str | None = None,
    password: str | None = None,
    tls: ssl.SSLContext | None = None,
    timeout: float = 2.0,  # noqa: ASYNC109 - one bound for connect and read
) -> tuple[bool, str]:
    """Return (healthy, detail): healthy when the broker answers CONNACK and accepts us."""
    client_id = f"safewatch-probe-{os.getpid()}-{os.urandom(3).hex()}"
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port, ssl=tls)
            writer.write(_connect_packet(client_id, username, password))
            await writer.drain()
            head = await reader.readexactly(4)
            if head[0] != 0x20:
                return False, "broker sent an unexpected packet"
            code = head[3]
            writer.write(b"\xe0\x00")  # DISCONNECT
            await writer.drain()
            if code == 0:
                return True, "ok"
            return False, f"broker refused the connection (CONNACK code {code})"
    except TimeoutError:
        return False, f"no answer from {host}:{port} within {timeout:g} s"
    except (OSError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
        return False, f"cannot reach {host}:{port}: {exc.__class__.__name__}"
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def broker_tls(*, enabled: bool, ca_file: str | None) -> ssl.SSLContext | None:
    """The TLS context for an mqtts:// broker (verifying its certificate), None for mqtt://."""
    if not enabled:
        return None
    return ssl.create_default_context(cafile=ca_file)


def broker_check(settings: Settings) -> Callable[[], Awaitable[tuple[bool, str]]]:
    """The broker accepts this process's credentials (MQTT CONNECT → CONNACK)."""

    async def check() -> tuple[bool, str]:
        return await probe_broker(
            settings.mqtt_host,
            settings.mqtt_port,
            username=settings.mqtt_username,
            password=settings.mqtt_password,
            tls=broker_tls(
                enabled=settings.mqtt_tls,
                ca_file=str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None,
            ),
        )

    return check


async def database_check(pool: AsyncConnectionPool | None) -> tuple[bool, str]:
    """(healthy, detail) of the pool's database: one round trip within 2 s."""
    if pool is None:
        return False, "no pool"
    try:
        async with asyncio.timeout(2), pool.connection() as conn:
            await ping(conn)
        return True, "ok"
    except Exception as exc:  # health reports, never raises
        return False, exc.__class__.__name__
