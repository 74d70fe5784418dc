"""Settings refuse placeholder secrets and unknown keys outside demo mode."""

from __future__ import annotations

import pytest

from config.settings import DEMO_ADMIN_PASSWORD, DEMO_SECRET_KEY, load_settings
from domain.errors import ConfigurationError

GOOD_KEY = "k" * 40
GOOD_PASSWORD = "a-real-password-here"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("SAFEWATCH_"):
            monkeypatch.delenv(key)


def test_defaults_match_the_documented_ones() -> None:
    s = load_settings(secret_key=GOOD_KEY, admin_password=GOOD_PASSWORD)
    assert s.database_url == "postgresql://postgres@127.0.0.1:5432/safewatch"
    assert s.mqtt_url == "mqtt://127.0.0.1:1883"
    assert s.mqtt_topic_prefix == "safewatch/v1"
    assert s.timezone == "Asia/Shanghai"
    assert (s.http_host, s.http_port) == ("127.0.0.1", 8000)


@pytest.mark.parametrize("secret", ["", "changeme", "secret", DEMO_SECRET_KEY, "short"])
def test_placeholder_secret_key_is_refused_naming_the_variable(secret: str) -> None:
    with pytest.raises(ConfigurationError, match="SAFEWATCH_SECRET_KEY"):
        load_settings(secret_key=secret, admin_password=GOOD_PASSWORD)


@pytest.mark.parametrize("password", ["", "admin", "changeme", DEMO_ADMIN_PASSWORD, "short"])
def test_placeholder_admin_password_is_refused(password: str) -> None:
    with pytest.raises(ConfigurationError, match="SAFEWATCH_ADMIN_PASSWORD"):
        load_settings(secret_key=GOOD_KEY, admin_password=password)


def test_demo_mode_allows_demo_secrets() -> None:
    s = load_settings(demo=True, secret_key=DEMO_SECRET_KEY, admin_password=DEMO_ADMIN_PASSWORD)
    assert s.demo


def test_unknown_environment_key_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFEWATCH_DATABSE_URL", "postgresql://x")
    with pytest.raises(ConfigurationError, match="SAFEWATCH_DATABSE_URL"):
        load_settings(secret_key=GOOD_KEY, admin_password=GOOD_PASSWORD)


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFEWATCH_SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("SAFEWATCH_ADMIN_PASSWORD", GOOD_PASSWORD)
    monkeypatch.setenv("SAFEWATCH_HTTP_PORT", "9001")
    assert load_settings().http_port == 9001


@pytest.mark.parametrize(
    ("key", "value"),
    [("timezone", "Mars/Olympus"), ("mqtt_url", "http://x"), ("mqtt_topic_prefix", "a/#")],
)
def test_bad_values_are_refused(key: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=f"SAFEWATCH_{key.upper()}"):
        load_settings(secret_key=GOOD_KEY, admin_password=GOOD_PASSWORD, **{key: value})
