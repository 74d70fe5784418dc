"""Sites over TLS (docs/protocol.md "TLS and credential rotation"), against Mosquitto with the
production listeners over TLS only and a private test CA: the reference client reports through
TLS with the bureau's CA, a client that does not trust that CA and a plain-TCP client are
refused; rotating one enterprise's password takes effect at the broker's reload and leaves the
other accounts alone."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from config.settings import Settings
from monitor.broker import TlsFiles
from monitor.video.agent import AgentConfig, run_agent
from tests.integration.monitor_support import broker_dir, rows, running_ingest, seed, wait_for
from tests.integration.site_support import SiteBroker, make_test_ca, site_broker


@pytest.fixture
async def tls_site(settings: Settings, pool) -> Any:
    codes = await seed(pool, 2)
    root = broker_dir()  # a directory the broker's own user can enter
    tls = make_test_ca(root / "certs")
    try:
        with site_broker(settings, codes, tls=tls) as sb:
            yield sb, codes, tls
    finally:
        shutil.rmtree(root, ignore_errors=True)


class Site:
    """A raw MQTT 5 site over TLS with the test CA, recording CONNACKs and disconnections."""

    def __init__(self, sb: SiteBroker, user: str, password: str, ca: Path) -> None:
        self.connacks: list[Any] = []
        self.disconnects: list[Any] = []
        self.c = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"site-{user}",
            protocol=mqtt.MQTTv5,
        )
        self.c.username_pw_set(user, password)
        self.c.tls_set(ca_certs=str(ca), cert_reqs=ssl.CERT_REQUIRED)
        self.c.reconnect_delay_set(60, 60)  # no reconnection while the test looks
        self.c.on_connect = lambda _c, _u, _f, rc, _p: self.connacks.append(rc)
        self.c.on_disconnect = lambda _c, _u, _f, rc, _p: self.disconnects.append(rc)
        self.c.connect(sb.broker.host, sb.broker.port, keepalive=30)
        self.c.loop_start()
        deadline = time.monotonic() + 5
        while not self.connacks and time.monotonic() < deadline:
            time.sleep(0.02)

    @property
    def accepted(self) -> bool:
        return bool(self.connacks) and not self.connacks[0].is_failure

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def _handshake(sb: SiteBroker, ca: Path | None) -> None:
    """A TLS handshake with the sites' listener, verifying it against `ca` (None: the system's
    trust store) and the host name."""
    ctx = ssl.create_default_context(cafile=str(ca) if ca else None)
    with (
        socket.create_connection((sb.broker.host, sb.broker.port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname=sb.broker.host) as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


async def test_the_reference_client_reports_over_tls_and_untrusted_clients_are_refused(
    tls_site: tuple[SiteBroker, list[str], TlsFiles], pool
) -> None:
    sb, (ent, _), tls = tls_site
    assert sb.service.mqtt_url.startswith("mqtts://")
    stop = asyncio.Event()
    config = AgentConfig(
        enterprise=ent, topic_prefix=sb.service.mqtt_topic_prefix, talkback="discard"
    )
    options = sb.agent_options(
        ent,
        tls=True,
        ca_file=str(tls.ca),
        session_expiry_s=3600,
    )
    event = {"event_id": "tls-1", "type": "shutdown", "scope": "plant", "reason": "TLS"}
    async with running_ingest(sb.service, pool):  # the service over TLS too (mqtts://, CA)
        agent = asyncio.create_task(run_agent(config, options, stop, events=[event], presence=True))
        try:

            async def stored() -> bool:
                return await rows(pool, "SELECT event_id FROM events") == [("tls-1",)]

            await wait_for(stored, timeout=20, what="the event sent over TLS")
        finally:
            stop.set()
            await asyncio.wait_for(agent, 15)
    _handshake(sb, tls.ca)  # the bureau's CA verifies the broker (name 127.0.0.1 in the cert)
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(sb, None)  # the system's trust store does not
    # plain MQTT on the TLS port gets no CONNACK
    plain = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    got: list[Any] = []
    plain.on_connect = lambda _c, _u, _f, rc, _p: got.append(rc)
    plain.connect(sb.broker.host, sb.broker.port, keepalive=30)
    plain.loop_start()
    await asyncio.sleep(1.0)  # a bounded look for a CONNACK that must not come
    plain.loop_stop()
    assert got == []


async def test_rotating_one_enterprise_password(
    tls_site: tuple[SiteBroker, list[str], TlsFiles],
) -> None:
    sb, (a, b), tls = tls_site
    old_a, old_b = sb.passwords[a], sb.passwords[b]
    site_a, site_b = Site(sb, a, old_a, tls.ca), Site(sb, b, old_b, tls.ca)
    assert site_a.accepted
    assert site_b.accepted
    new_a = sb.rotate(a)
    assert new_a != old_a
    assert sb.passwords[b] == old_b  # the others keep theirs

    async def dropped() -> bool:
        return bool(site_a.disconnects)

    # Mosquitto 2.0 re-checks connected clients when it reloads its password file: the site
    # still connected with the old password is disconnected (and must use the new one).
    await wait_for(dropped, what="the old password's connection dropped at the reload")
    assert site_b.disconnects == []
    assert site_b.c.is_connected()
    refused = Site(sb, a, old_a, tls.ca)
    assert refused.connacks
    assert refused.connacks[0].is_failure  # the old password no longer works
    assert refused.connacks[0].value == 0x87, refused.connacks[0]  # Mosquitto: not authorized
    for user, password in ((a, new_a), (b, old_b)):
        s = Site(sb, user, password, tls.ca)
        assert s.accepted, user
        s.close()
    for s in (site_a, site_b, refused):
        s.close()
