"""A broker configured as in production for the site-protocol tests: per-enterprise accounts
and ACL written by the project's own `monitor.credentials.generate`, the sites' listener (client
id = user name) and the service listener, started by `monitor.broker.start_mosquitto`."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

from config.settings import Settings
from monitor.broker import BrokerProcess, read_passwords, start_for_accounts
from monitor.credentials import generate
from tests.integration.monitor_support import Device, broker_dir, readable_by_broker, stop_broker

SERVICE_USER = "safewatch"


@dataclass(frozen=True, slots=True)
class SiteBroker:
    """The running broker, every account's password and the service's settings."""

    broker: BrokerProcess
    passwords: dict[str, str]
    service: Settings

    def device(self, ent: str, **kwargs: object) -> Device:
        """A site connected to the sites' listener with its own account."""
        return Device(
            self.service,
            ent,
            port=self.broker.port,
            username=ent,
            password=self.passwords[ent],
            **kwargs,  # type: ignore[arg-type]
        )


@contextlib.contextmanager
def site_broker(settings: Settings, codes: list[str]) -> Iterator[SiteBroker]:
    """Mosquitto with the production listeners and accounts for `codes`."""
    root = broker_dir()
    out = root / "creds"
    written = generate(
        out,
        prefix=settings.mqtt_topic_prefix,
        service_user=SERVICE_USER,
        service_password=None,
        enterprises=codes,
        iterations=101,  # the hash format is the production one; fewer rounds keep tests fast
    )
    files = [
        written.password_file,
        written.acl_file,
        written.service_password_file,
        written.service_acl_file,
    ]
    readable_by_broker(out, *files)
    broker = start_for_accounts(root / "broker", written)
    try:
        passwords = read_passwords(written)
        service = settings.model_copy(
            update={
                "mqtt_url": f"mqtt://{broker.host}:{broker.service_port}",
                "mqtt_username": SERVICE_USER,
                "mqtt_password": passwords[SERVICE_USER],
            }
        )
        yield SiteBroker(broker, passwords, service)
    finally:
        stop_broker(broker)
        shutil.rmtree(root, ignore_errors=True)
