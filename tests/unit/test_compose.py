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
    for name in ("timescale", "mosquitto", "api"):
        assert "healthcheck" in services[name]


def test_variable_names_are_real_settings() -> None:
    known = {f"SAFEWATCH_{n.upper()}" for n in Settings.model_fields}
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    used_keys = set(re.findall(r"^\s+(SAFEWATCH_[A-Z_]+):", text, flags=re.M))
    interpolated = set(re.findall(r"\$\{(SAFEWATCH_[A-Z_]+)", text))
    deployment_only = set(DEPLOYMENT_ONLY)
    assert used_keys - known == set()
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


def test_api_port_matches_the_settings_port() -> None:
    api = _compose()["services"]["api"]
    port = api["environment"]["SAFEWATCH_HTTP_PORT"]
    assert api["ports"] == [f"{port}:{port}"]
    assert Settings.model_fields["http_port"].default == int(port)


def test_named_volumes_are_declared() -> None:
    data = _compose()
    declared = set(data["volumes"])
    for svc in data["services"].values():
        for vol in svc.get("volumes", []):
            src = vol.split(":", 1)[0]
            if not src.startswith((".", "/")):
                assert src in declared
