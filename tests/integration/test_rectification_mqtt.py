"""The rectification order over the real broker: Mosquitto configured as in production
(per-enterprise accounts and ACL from monitor.credentials, the sites' listener and the service's
own), the real ingest publishing downlinks. The inspected enterprise's device, connected with its
own credentials, receives the `notice` (kind `rectification_order`) on its own topic and
acknowledges it on `…/ack`, which acknowledges the order itself (as its portal would: one audit
record, attributed to the site's broker account, and the live change; idempotent). Another
enterprise's device receives nothing of it, even when it subscribes to the first enterprise's
topics (the broker's ACL filters delivery), and cannot acknowledge it: on its own topic the ref
is unknown to it (refused on its …/reject), on the first enterprise's the broker refuses it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from api.app import create_app
from config.settings import Settings
from tests.integration.monitor_support import rows, running_ingest, scalar, ts, wait_for
from tests.integration.site_support import SiteBroker, site_broker
from tests.integration.test_rectification_loop import FIRST, _setup

WAIT_S = 10.0


class Site:
    """An enterprise's device on the sites' listener (MQTT 5, its own account): waits for the
    broker's CONNACK and SUBACKs on events, keeps what it receives."""

    def __init__(self, sb: SiteBroker, ent: str) -> None:
        self.ent = ent
        self.prefix = sb.service.mqtt_topic_prefix
        self.got: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.connected = threading.Event()
        self.subacks: dict[int, list[Any]] = {}
        self.subscribed = threading.Condition()
        self.pubacks: dict[int, Any] = {}
        self.published = threading.Condition()
        self.c = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=ent,  # the sites' listener takes the user name as client id
            protocol=mqtt.MQTTv5,
        )
        self.c.username_pw_set(ent, sb.passwords[ent])
        self.c.on_connect = lambda _c, _u, _f, rc, _p: rc.is_failure or self.connected.set()
        self.c.on_subscribe = self._on_subscribe
        self.c.on_message = self._on_message
        self.c.on_publish = self._on_publish
        self.c.connect(sb.broker.host, sb.broker.port, keepalive=30)
        self.c.loop_start()
        assert self.connected.wait(WAIT_S), f"{ent} not connected"

    def _on_subscribe(self, _c: Any, _u: Any, mid: int, codes: list[Any], _p: Any) -> None:
        with self.subscribed:
            self.subacks[mid] = list(codes)
            self.subscribed.notify_all()

    def _on_publish(self, _c: Any, _u: Any, mid: int, rc: Any, _p: Any) -> None:
        with self.published:
            self.pubacks[mid] = rc
            self.published.notify_all()

    def _on_message(self, _c: Any, _u: Any, m: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.got.append((m.topic, json.loads(m.payload)))

    def subscribe(self, topic: str) -> Any:
        """Subscribe and return the broker's reason code (after its SUBACK)."""
        rc, mid = self.c.subscribe(topic, qos=1)
        assert rc == mqtt.MQTT_ERR_SUCCESS
        with self.subscribed:
            assert self.subscribed.wait_for(lambda: mid in self.subacks, WAIT_S), topic
            return self.subacks[mid][0]

    def received(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        """Messages received on …/{kind}."""
        with self.lock:
            return [(t, b) for t, b in self.got if t.rsplit("/", 1)[-1] == kind]

    def ack(self, ref: str, *, ent: str | None = None) -> Any:
        """Acknowledge a downlink on an enterprise's …/ack (by default its own); the broker's
        PUBACK reason code."""
        body = json.dumps({"ref": ref, "ts": ts(), "by": "安全总监 李某"}, ensure_ascii=False)
        info = self.c.publish(f"{self.prefix}/ent/{ent or self.ent}/ack", body.encode(), qos=1)
        with self.published:
            assert self.published.wait_for(lambda: info.mid in self.pubacks, WAIT_S), ref
            return self.pubacks[info.mid]

    async def refused(self, ref: str) -> dict[str, Any]:
        """Wait for the ingest's …/reject of a message with this ref."""

        def found() -> list[dict[str, Any]]:
            return [b for _, b in self.received("reject") if b.get("ref") == ref]

        async def arrived() -> bool:
            return bool(found())

        await wait_for(arrived, timeout=WAIT_S, what=f"the reject of {ref} at {self.ent}")
        return found()[0]

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


async def test_the_order_reaches_its_enterprise_only_and_is_acknowledged(
    settings: Settings, pool: Any, client: TestClient, db_url: str
) -> None:
    iid, code, team, ent_headers, sup = _setup(client, db_url)
    finding = client.post(f"/api/v1/inspections/{iid}/findings", json=FIRST, headers=team)
    assert finding.status_code == 201, finding.text
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT credit_code FROM enterprises WHERE credit_code <> %s ORDER BY credit_code"
            " LIMIT 1",
            (code,),
        ).fetchone()
    assert row is not None
    other = str(row[0])

    with site_broker(settings, [code, other]) as sb:
        site = Site(sb, code)
        stranger = Site(sb, other)
        try:
            prefix = sb.service.mqtt_topic_prefix
            assert site.subscribe(f"{prefix}/ent/{code}/#").value == 1  # granted QoS 1
            assert stranger.subscribe(f"{prefix}/ent/{other}/#").value == 1
            # the stranger also reaches for the inspected enterprise's topics: Mosquitto answers
            # the SUBACK, but its ACL (read only under the account's own code) delivers nothing
            stranger.subscribe(f"{prefix}/ent/{code}/#")
            async with running_ingest(sb.service, pool):
                res = client.post(f"/api/v1/inspections/{iid}/rectification", headers=team)
                assert res.status_code == 201, res.text
                order = res.json()
                with psycopg.connect(db_url) as conn:
                    ref_row = conn.execute(
                        "SELECT d.ref FROM downlinks d JOIN rectification_orders o"
                        " ON o.notice_id = d.id WHERE o.id = %s",
                        (order["id"],),
                    ).fetchone()
                assert ref_row is not None
                ref = str(ref_row[0])

                async def delivered() -> bool:
                    return any(b.get("id") == ref for _, b in site.received("notice"))

                await wait_for(delivered, timeout=WAIT_S, what="the order's notice at the site")
                ((topic, notice),) = [(t, b) for t, b in site.received("notice") if b["id"] == ref]
                assert topic == f"{prefix}/ent/{code}/notice"
                assert notice["kind"] == "rectification_order"
                assert notice["doc_no"] == order["doc_no"]
                assert notice["order_id"] == order["id"]
                assert notice["deadline"] == order["deadline"]
                assert notice["requires_ack"] is True
                assert [f["id"] for f in notice["findings"]] == [finding.json()["id"]]
                assert order["doc_no"] in notice["text"]

                target = f"rectification:{order['id']}"
                acks_sql = (
                    "SELECT username, role, before, after FROM audit_log"
                    " WHERE target = %(t)s AND action = 'rectification.acknowledge' ORDER BY id"
                )

                # the stranger acknowledges the order's notice: on its own …/ack the ref is not
                # its own (refused, answered on its …/reject); on the inspected enterprise's
                # …/ack the broker's ACL refuses the publication itself
                assert stranger.ack(ref).is_failure is False
                refusal = await stranger.refused(ref)
                assert refusal["code"] == "ref_unknown"
                denied = stranger.ack(ref, ent=code)
                assert denied.is_failure, denied
                assert denied.value == 0x87, denied  # not authorized
                assert await scalar(
                    pool, "SELECT state FROM downlinks WHERE ref = %(r)s", {"r": ref}
                ) in ("sent", "pending")
                assert (
                    await scalar(
                        pool,
                        "SELECT state FROM rectification_orders WHERE id = %(i)s",
                        {"i": order["id"]},
                    )
                    == "issued"
                )
                assert await rows(pool, acks_sql, {"t": target}) == []

                assert site.ack(ref).is_failure is False

                async def acknowledged() -> bool:
                    state = await scalar(
                        pool,
                        "SELECT o.state FROM rectification_orders o JOIN downlinks d"
                        " ON d.id = o.notice_id WHERE d.ref = %(r)s AND d.state = 'acknowledged'",
                        {"r": ref},
                    )
                    return bool(state == "acknowledged")

                await wait_for(acknowledged, timeout=WAIT_S, what="the order acknowledged")
                by = await scalar(
                    pool, "SELECT acked_by FROM downlinks WHERE ref = %(r)s", {"r": ref}
                )
                assert by == "安全总监 李某"
                ((acked_by, acked_at),) = await rows(
                    pool,
                    "SELECT acknowledged_by, acknowledged_at FROM rectification_orders"
                    " WHERE id = %(i)s",
                    {"i": order["id"]},
                )
                assert acked_by == code  # the site's broker account
                assert acked_at is not None
                audit = [
                    (
                        code,
                        "site",
                        {"state": "issued"},
                        {
                            "state": "acknowledged",
                            "via": "mqtt",
                            "notice": ref,
                            "acked_by": "安全总监 李某",
                        },
                    )
                ]
                assert await rows(pool, acks_sql, {"t": target}) == audit
                live = await rows(
                    pool,
                    "SELECT payload FROM live_changes WHERE kind = 'rectification'"
                    " AND enterprise_id = %(e)s AND payload->>'id' = %(i)s ORDER BY id",
                    {"e": code, "i": str(order["id"])},
                )
                assert [p["state"] for (p,) in live] == ["issued", "acknowledged"]

                # idempotent: the site acknowledges again (then a ref it never had, whose reject
                # shows the repeat has been through the ingest), and the portal acknowledges too
                assert site.ack(ref).is_failure is False
                assert site.ack("N999999").is_failure is False
                assert (await site.refused("N999999"))["code"] == "ref_unknown"
                res = client.post(f"/api/v1/rectifications/{order['id']}/ack", headers=ent_headers)
                assert res.status_code == 200, res.text
                assert res.json()["state"] == "acknowledged"
                assert await rows(pool, acks_sql, {"t": target}) == audit
                assert (
                    await scalar(
                        pool,
                        "SELECT acknowledged_at FROM rectification_orders WHERE id = %(i)s",
                        {"i": order["id"]},
                    )
                    == acked_at
                )
                assert len(
                    await rows(
                        pool,
                        "SELECT payload FROM live_changes WHERE kind = 'rectification'"
                        " AND enterprise_id = %(e)s AND payload->>'id' = %(i)s",
                        {"e": code, "i": str(order["id"])},
                    )
                ) == len(live)

                # a sentinel for the stranger, published after the order's notice: once it has
                # arrived, the stranger would have had the notice too if the broker leaked it
                res = client.post(
                    f"/api/v1/enterprises/{other}/guidance",
                    json={"text": "请核对本企业今日安全风险研判与承诺公告"},
                    headers=sup,
                )
                assert res.status_code == 201, res.text

                async def sentinel() -> bool:
                    return bool(stranger.received("guidance"))

                await wait_for(sentinel, timeout=WAIT_S, what="the stranger's own guidance")
                leaked = [t for t, _ in stranger.got if f"/ent/{code}/" in t]
                assert leaked == []
                assert all(b.get("id") != ref for _, b in stranger.got)
                assert all(t.startswith(f"{prefix}/ent/{other}/") for t, _ in stranger.got)
        finally:
            site.close()
            stranger.close()
