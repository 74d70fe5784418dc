"""Processes of a scale-out deployment on this machine: a Mosquitto with the project's config and
per-enterprise credentials, `safewatch monitor|api|scheduler` subprocesses, a fleet of devices."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner

from monitor.broker import BrokerProcess, start_mosquitto
from monitor.topics import Topics
from safewatch import app
from tests.conftest import TEST_ADMIN_PASSWORD, TEST_AUDITOR_KEY, TEST_SECRET
from tests.integration.monitor_support import broker_dir, readable_by_broker
from tests.integration.order_support import publish_all

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class SecuredBroker:
    """Our own Mosquitto: sites' listener with per-enterprise accounts, service listener."""

    broker: BrokerProcess
    passwords: dict[str, str]
    root: Path


def secured_broker(db_url: str, prefix: str) -> SecuredBroker:
    """Generate the accounts with `safewatch mqtt-credentials` and start the broker on them."""
    root = broker_dir()
    env = {
        "SAFEWATCH_DATABASE_URL": db_url,
        "SAFEWATCH_MQTT_TOPIC_PREFIX": prefix,
        "SAFEWATCH_SECRET_KEY": TEST_SECRET,
        "SAFEWATCH_ADMIN_PASSWORD": TEST_ADMIN_PASSWORD,
    }
    out = root / "creds"
    result = CliRunner().invoke(app, ["mqtt-credentials", "--out-dir", str(out)], env=env)
    assert result.exit_code == 0, result.output
    files = [out / n for n in ("passwd", "acl", "service.passwd", "service.acl")]
    readable_by_broker(out, *files)
    broker = start_mosquitto(
        root / "broker",
        password_file=out / "passwd",
        acl_file=out / "acl",
        service_password_file=out / "service.passwd",
        service_acl_file=out / "service.acl",
    )
    with (out / "credentials.csv").open() as fh:
        passwords = {r["username"]: r["password"] for r in csv.DictReader(fh)}
    return SecuredBroker(broker, passwords, root)


class Proc:
    """One `python -m safewatch …` process (or a wrapper module) with its log in a file."""

    def __init__(
        self,
        name: str,
        args: list[str],
        env: dict[str, str],
        logs: Path,
        *,
        module: str = "safewatch",
    ) -> None:
        self.name = name
        self.module = module
        self.args = args
        self.env = env
        self.log = logs / f"{name}.log"
        self.p = self._spawn()

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as fh:
            return subprocess.Popen(
                [sys.executable, "-m", self.module, *self.args],
                cwd=ROOT,
                env=self.env,
                stdout=fh,
                stderr=subprocess.STDOUT,
            )

    def text(self) -> str:
        """Everything it logged so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def restart(self) -> None:
        """Start it again (after a kill), logging to the same file."""
        self.p = self._spawn()

    def kill(self) -> float:
        """SIGKILL; the monotonic time it was sent."""
        at = time.monotonic()
        self.p.send_signal(signal.SIGKILL)
        self.p.wait(10)
        return at

    def stop(self) -> None:
        """SIGTERM and wait; SIGKILL if it does not stop."""
        if self.p.poll() is not None:
            return
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(5)


def base_env(db_url: str, prefix: str, broker: SecuredBroker) -> dict[str, str]:
    """The environment every process shares (the service account on the service listener)."""
    b = broker.broker
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("SAFEWATCH_")},
        "SAFEWATCH_DATABASE_URL": db_url,
        "SAFEWATCH_MQTT_URL": f"mqtt://{b.host}:{b.service_port}",
        "SAFEWATCH_MQTT_USERNAME": "safewatch",
        "SAFEWATCH_MQTT_PASSWORD": broker.passwords["safewatch"],
        "SAFEWATCH_MQTT_TOPIC_PREFIX": prefix,
        "SAFEWATCH_SECRET_KEY": TEST_SECRET,
        "SAFEWATCH_ADMIN_PASSWORD": TEST_ADMIN_PASSWORD,
        "SAFEWATCH_DRAW_AUDITOR_KEY": TEST_AUDITOR_KEY,
        # Like the test settings: the scheduled test plan names no public value source.
        "SAFEWATCH_DRAW_TEST_MODE": "true",
        "SAFEWATCH_LOG_LEVEL": "INFO",
    }


class Fleet:
    """One MQTT 5 connection per enterprise, each with its own account (the ACL allows a site
    only its own topics)."""

    def __init__(self, broker: SecuredBroker, prefix: str, ents: list[str]) -> None:
        self.topics = Topics(prefix)
        self.clients: dict[str, mqtt.Client] = {}
        for ent in ents:
            c = mqtt.Client(
                callback_api_version=CallbackAPIVersion.VERSION2,
                client_id=ent,
                protocol=mqtt.MQTTv5,
            )
            c.username_pw_set(ent, broker.passwords[ent])
            c.connect(broker.broker.host, broker.broker.port)
            c.loop_start()
            self.clients[ent] = c
        deadline = time.monotonic() + 30
        while not all(c.is_connected() for c in self.clients.values()):
            assert time.monotonic() < deadline, "devices did not connect"
            time.sleep(0.05)

    def publish(self, items: list[tuple[str, dict[str, Any]]], timeout: float = 60) -> None:
        """Publish each (enterprise, event) in order on its own connection; wait for PUBACKs."""
        publish_all(self.clients.__getitem__, self.topics, items, timeout)

    def close(self) -> None:
        for c in self.clients.values():
            c.disconnect()
            c.loop_stop()


def wait_log(procs: list[Proc], needle: str, timeout: float = 60, count: int = 1) -> Proc:
    """The first process whose log holds `needle` `count` times (polled every 50 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in procs:
            if p.text().count(needle) >= count:
                return p
        time.sleep(0.05)
    tails = {p.name: p.text()[-600:] for p in procs}
    raise AssertionError(f"no process logged {needle!r} within {timeout} s: {tails}")
