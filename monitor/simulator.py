"""`safewatch simulate`: a fleet of demo sites, each with its own MQTT connection and last will."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import logging
import random
import time
from collections import deque
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from config.policy_calendar import load_work_calendar
from config.settings import Settings
from demo.data import demo_enterprises
from domain.clock import utcnow
from domain.region import Region
from domain.work_calendar import WorkCalendar
from monitor.credentials import read_accounts
from monitor.sim_model import SiteModel, encode
from monitor.sim_profile import NORMAL, SimProfile
from monitor.topics import Topics

log = logging.getLogger(__name__)


class SimSite:
    """One simulated site: its model and its MQTT client (will: offline, retained)."""

    def __init__(
        self,
        settings: Settings,
        model: SiteModel,
        inbox: deque[tuple[str, str, dict[str, Any]]],
        password: str | None,
    ) -> None:
        """Prepare the client; `start()` connects."""
        self.model = model
        self.topics = Topics(settings.mqtt_topic_prefix)
        self.settings = settings
        code = model.code
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"sim-{code}",
            protocol=mqtt.MQTTv5,
        )
        if password is not None:
            client.username_pw_set(code, password)
        client.will_set(
            self.topics.uplink(code, "presence"), b'{"online": false}', qos=1, retain=True
        )
        client.reconnect_delay_set(1, 30)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        self.client = client
        self._inbox = inbox

    def start(self) -> None:
        """Connect in the background."""
        self.client.connect_async(self.settings.mqtt_host, self.settings.mqtt_port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        """Say offline (a clean disconnect sends no last will) and disconnect."""
        info = self.send("presence", {"online": False, "ts": utcnow().isoformat()}, retain=True)
        with contextlib.suppress(Exception):
            info.wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()

    def send(self, kind: str, payload: Any, *, retain: bool = False) -> mqtt.MQTTMessageInfo:
        """Publish one uplink (QoS 1)."""
        topic = self.topics.uplink(self.model.code, kind)
        return self.client.publish(topic, encode(payload), qos=1, retain=retain)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("simulated site %s refused: %s", self.model.code, reason)
            return
        code = self.model.code
        for kind in ("guidance", "notice", "reject"):
            client.subscribe(f"{self.settings.mqtt_topic_prefix}/ent/{code}/{kind}", qos=1)
        self.send("presence", {"online": True, "ts": utcnow().isoformat()}, retain=True)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        kind = msg.topic.rsplit("/", 1)[-1]
        if kind == "reject":
            return
        try:
            body = json.loads(msg.payload)
        except ValueError:
            return
        if isinstance(body, dict):
            self._inbox.append((self.model.code, kind, body))


def _calendar(settings: Settings) -> WorkCalendar:
    """Statutory holidays and 调休 from the policy directory, so demo sites rest on holidays."""
    calendar = load_work_calendar(settings.policy_dir)
    today = utcnow().astimezone(settings.tz).date()
    if not calendar.knows(today):
        log.warning("simulator: holidays.yaml has no notice for %d; weekends only", today.year)
    return calendar


def _passwords(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    return {name: acc.password for name, acc in read_accounts(path).items()}


async def run_simulator(
    settings: Settings,
    stop: asyncio.Event,
    *,
    enterprises: int = 30,
    rate: float | None = None,
    seed: int = 7,
    credentials: Path | None = None,
    malformed_share: float | None = None,
    profile: SimProfile = NORMAL,
    region: Region | None = None,
) -> None:
    """Play `enterprises` demo sites until `stop`: `rate` messages per second in all (default:
    the profile's pace), a realistic duty day (`NORMAL`) or a `STORM` for load."""
    ents = demo_enterprises(max(enterprises, 1), region=region)
    codes = [e.credit_code for e in ents][:enterprises]
    if not codes:
        await stop.wait()
        return
    rate = rate or enterprises / profile.message_every_s
    share = profile.malformed_share if malformed_share is None else malformed_share
    rng = random.Random(seed)
    calendar = _calendar(settings)
    inbox: deque[tuple[str, str, dict[str, Any]]] = deque()
    passwords = _passwords(credentials)
    sites = {
        code: SimSite(
            settings,
            SiteModel(
                code,
                random.Random(rng.random()),
                settings.tz,
                share,
                profile=profile,
                calendar=calendar,
            ),
            inbox,
            passwords.get(code),
        )
        for code in codes
    }
    for site in sites.values():
        site.start()
    log.info("simulator: %d sites, %.1f messages/s, profile %s", len(sites), rate, profile.name)
    mean_gap = len(sites) / rate
    now = time.monotonic()
    queue = [(now + rng.expovariate(1 / mean_gap), code) for code in codes]
    heapq.heapify(queue)
    sent = 0
    try:
        while not stop.is_set():
            while inbox:
                code, kind, body = inbox.popleft()
                sites[code].model.on_downlink(kind, body)
            due, code = heapq.heappop(queue)
            delay = due - time.monotonic()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                if stop.is_set():
                    break
            site = sites[code]
            if site.client.is_connected():
                kind, payload = site.model.next(utcnow())
                site.send(kind, payload)
                sent += 1
            heapq.heappush(
                queue, (max(due, time.monotonic()) + rng.expovariate(1 / mean_gap), code)
            )
    finally:
        await asyncio.gather(*(asyncio.to_thread(s.stop) for s in sites.values()))
        log.info("simulator stopped after %d messages", sent)
