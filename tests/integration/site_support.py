"""A broker configured as in production for the site-protocol tests: per-enterprise accounts
and ACL written by the project's own `monitor.credentials.generate`, the sites' listener (client
id = user name) and the service listener, started by `monitor.broker.start_mosquitto`."""

from __future__ import annotations

import contextlib
import ipaddress
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from config.settings import Settings
from monitor.broker import BrokerProcess, TlsFiles, read_passwords, start_for_accounts
from monitor.credentials import generate
from monitor.video.mqtt import MqttOptions
from tests.integration.monitor_support import Device, broker_dir, readable_by_broker, stop_broker

SERVICE_USER = "safewatch"


@dataclass(frozen=True, slots=True)
class SiteBroker:
    """The running broker, every account's password and the service's settings."""

    broker: BrokerProcess
    passwords: dict[str, str]
    service: Settings
    creds_dir: Path
    codes: tuple[str, ...]

    def agent_options(self, ent: str, **extra: Any) -> MqttOptions:
        """How the reference client of `ent` connects to the sites' listener."""
        return MqttOptions(
            host=self.broker.host,
            port=self.broker.port,
            client_id=f"site-{ent}",
            username=ent,
            password=self.passwords[ent],
            **extra,
        )

    def rotate(self, ent: str) -> str:
        """A new password for one enterprise (`mqtt-credentials --rotate-enterprise`), the
        broker told to re-read its files (SIGHUP); the new password."""
        written = generate(
            self.creds_dir,
            prefix=self.service.mqtt_topic_prefix,
            service_user=SERVICE_USER,
            service_password=None,
            enterprises=list(self.codes),
            rotate_only=frozenset({ent}),
            iterations=101,
        )
        readable_by_broker(written.password_file)
        self.broker.reload()
        self.passwords.update(read_passwords(written))
        return self.passwords[ent]

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
def site_broker(
    settings: Settings, codes: list[str], *, tls: TlsFiles | None = None
) -> Iterator[SiteBroker]:
    """Mosquitto with the production listeners and accounts for `codes` (with `tls`: both
    listeners over TLS only, as in production)."""
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
    broker = start_for_accounts(root / "broker", written, tls=tls)
    try:
        passwords = read_passwords(written)
        service = settings.model_copy(
            update={
                "mqtt_url": f"{'mqtts' if tls else 'mqtt'}://{broker.host}:{broker.service_port}",
                "mqtt_ca_file": tls.ca if tls else None,
                "mqtt_username": SERVICE_USER,
                "mqtt_password": passwords[SERVICE_USER],
            }
        )
        yield SiteBroker(broker, passwords, service, out, tuple(codes))
    finally:
        stop_broker(broker)
        shutil.rmtree(root, ignore_errors=True)


def make_test_ca(directory: Path) -> TlsFiles:
    """A private test CA and a broker certificate for 127.0.0.1 / localhost signed by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Safewatch test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "ca.crt", directory / "server.crt", directory / "server.key")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    directory.chmod(0o755)
    for p in (files.ca, files.cert):
        p.chmod(0o644)
    files.key.chmod(0o600)
    return files
