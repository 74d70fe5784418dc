"""docker-compose.yml parses, and its services, ports and variables match the settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from config.settings import DEPLOYMENT_ONLY, Settings

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_services_and_images() -> None:
    services = _compose()["services"]
    assert {"timescale", "mosquitto", "api", "monitor", "scheduler"} <= set(services)
    assert services["timescale"]["image"].startswith("timescale/timescaledb")
    assert services["mosquitto"]["image"].startswith("eclipse-mosquitto:2")
    for name in ("api", "monitor", "scheduler"):
        assert services[name]["build"] == "."
        assert services[name]["command"] == ["safewatch", name]


def test_every_service_that_depends_waits_for_health() -> None:
    services = _compose()["services"]
    for name in ("api", "monitor", "scheduler"):
        deps = services[name]["depends_on"]
        assert deps["timescale"]["condition"] == "service_healthy"
    for name in ("timescale", "mosquitto", "api", "monitor", "scheduler", "proxy"):
        assert "healthcheck" in services[name]


def test_variable_names_are_real_settings() -> None:
    known = {f"SAFEWATCH_{n.upper()}" for n in Settings.model_fields}
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    used_keys = set(re.findall(r"^\s+(SAFEWATCH_[A-Z_]+):", text, flags=re.M))
    interpolated = set(re.findall(r"\$\{(SAFEWATCH_[A-Z_]+)", text))
    deployment_only = set(DEPLOYMENT_ONLY)
    assert used_keys - known - deployment_only == set()
    assert interpolated - known - deployment_only == set()


def test_secrets_are_required_not_defaulted() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for var in (
        "SAFEWATCH_SECRET_KEY",
        "SAFEWATCH_ADMIN_PASSWORD",
        "SAFEWATCH_MQTT_PASSWORD",
        "SAFEWATCH_DB_PASSWORD",
    ):
        assert re.search(r"\$\{" + var + r":\?", text), var
        assert not re.search(r"\$\{" + var + r":-", text), var


def test_only_the_proxy_and_the_tls_broker_are_published() -> None:
    services = _compose()["services"]
    api = services["api"]
    port = api["environment"]["SAFEWATCH_HTTP_PORT"]
    assert Settings.model_fields["http_port"].default == int(port)
    assert "ports" not in api  # reached through the HTTPS proxy only
    assert port in api["expose"]
    published = {n: s["ports"] for n, s in services.items() if "ports" in s}
    assert published == {"mosquitto": ["8883:8883"], "proxy": ["443:443", "80:80"]}
    assert "mqtts://mosquitto:8884" in (ROOT / "docker-compose.yml").read_text(encoding="utf-8")


def test_json_logs_and_a_metrics_port_for_every_process() -> None:
    services = _compose()["services"]
    for name in ("api", "monitor", "scheduler"):
        env = services[name]["environment"]
        assert env["SAFEWATCH_LOG_FORMAT"].endswith(":-json}")
        assert env["SAFEWATCH_METRICS_PORT"] == "9100"
        assert "healthcheck" in services[name]


def test_named_volumes_are_declared() -> None:
    data = _compose()
    declared = set(data["volumes"])
    for svc in data["services"].values():
        for vol in svc.get("volumes", []):
            src = vol.split(":", 1)[0]
            if not src.startswith((".", "/")):
                assert src in declared
