"""Settings from the environment (SAFEWATCH_*); unknown keys and placeholder secrets fail."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.errors import ConfigurationError

#: Values that are never acceptable as secrets outside demo mode.
PLACEHOLDER_SECRETS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "changethis",
        "secret",
        "password",
        "admin",
        "safewatch",
        "demo",
        "demo-secret-key-not-for-production",
        "demo-admin",
    }
)
MIN_SECRET_KEY_LENGTH = 32

#: Variables that docker-compose.yml reads for other services (the database password, the
#: proxy's site name); the documented deployment exports them next to the process settings.
DEPLOYMENT_ONLY = frozenset({"SAFEWATCH_DB_PASSWORD", "SAFEWATCH_SITE_ADDRESS"})

DEFAULT_POLICY_DIR = Path(__file__).resolve().parent


class Settings(BaseSettings):
    """Every setting of every process. `demo=True` allows demo secrets and embedded fallbacks."""

    model_config = SettingsConfigDict(
        env_prefix="SAFEWATCH_", extra="forbid", env_file=None, validate_default=True
    )

    database_url: str = "postgresql://postgres@127.0.0.1:5432/safewatch"
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_topic_prefix: str = "safewatch/v1"
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    mqtt_client_id: str = "safewatch-monitor"
    mqtt_shared_group: str | None = None
    #: CA bundle that signed the broker's certificate (mqtts://); the system store when unset.
    mqtt_ca_file: Path | None = None
    timezone: str = "Asia/Shanghai"
    secret_key: str = ""
    admin_password: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    #: How the other API replicas reach this one (video sessions are forwarded to their owner);
    #: default http://{http_host}:{http_port}.
    replica_url: str | None = Field(default=None, pattern=r"^https?://[^/?#]+$")
    demo: bool = False
    data_dir: Path = Path("var")
    policy_dir: Path = DEFAULT_POLICY_DIR
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: "json": one JSON object per line (time, level, logger, message, enterprise, event_id,
    #: request_id) for a log collector; "text" for a terminal.
    log_format: Literal["text", "json"] = "text"
    #: When set, every process also serves /metrics and /healthz on metrics_host:metrics_port
    #: (one scrape target per process), and the API's public port stops serving /metrics.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    #: When set, /metrics answers only requests with `Authorization: Bearer <token>`.
    metrics_token: str | None = None
    token_ttl_minutes: int = Field(default=30, ge=1, le=24 * 60)
    presence_timeout_s: int = Field(default=120, ge=5)
    #: Sandbox / conformance mode (docs/protocol.md): the monitor answers every uplink message
    #: with a verdict on …/{ent}/receipt (stored, duplicate, refused + code). Never in production:
    #: it doubles the downlink traffic.
    mqtt_receipts: bool = False
    db_pool_min: int = Field(default=1, ge=1)
    db_pool_max: int = Field(default=10, ge=1)
    ice_servers: list[str] = Field(default_factory=list)
    video_max_sessions: int = Field(default=4, ge=1)
    video_max_sessions_per_user: int = Field(default=2, ge=1)
    video_duty_reserve: int = Field(default=1, ge=0)
    video_answer_timeout_s: float = Field(default=20.0, gt=0)
    video_idle_timeout_s: float = Field(default=600.0, gt=0)
    telemetry_retention_days: int = Field(default=400, ge=7)
    events_retention_days: int = Field(default=3650, ge=30)
    # HTTP hardening (issue 11): bodies are refused with 413 before they are parsed
    http_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    http_max_upload_bytes: int = Field(default=12 * 1024 * 1024, ge=1024)
    #: Key of the officers' per-draw pseudonyms (64 hex digits); the auditors hold a copy.
    draw_auditor_key: str = ""
    #: Tests only: draws without a public value, frozen and drawn in one request.
    draw_test_mode: bool = False
    #: 行政执法公示: publish the names and certificate numbers of each team's members.
    draw_disclose_officers: bool = False
    # origins (CSP source expressions) allowed to frame the public page; none by default
    http_public_frame_ancestors: list[str] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"SAFEWATCH_TIMEZONE={value!r} is not an IANA time zone") from exc
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_scheme(cls, value: str) -> str:
        if urlsplit(value).scheme not in {"mqtt", "mqtts"}:
            raise ValueError("SAFEWATCH_MQTT_URL must start with mqtt:// or mqtts://")
        return value

    @field_validator("mqtt_topic_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if (
            not value
            or value.startswith("/")
            or value.endswith("/")
            or any(c in value for c in "#+")
        ):
            raise ValueError(
                "SAFEWATCH_MQTT_TOPIC_PREFIX must be a plain topic path like safewatch/v1"
            )
        return value

    @field_validator("draw_auditor_key")
    @classmethod
    def _auditor_key(cls, value: str) -> str:
        if value and (len(value) != 64 or any(c not in "0123456789abcdef" for c in value)):
            raise ValueError("SAFEWATCH_DRAW_AUDITOR_KEY must be 64 lower-case hex digits")
        if value and len(set(value)) < 4:
            raise ValueError("SAFEWATCH_DRAW_AUDITOR_KEY is a placeholder: openssl rand -hex 32")
        return value

    def auditor_key(self) -> bytes:
        """The pseudonym key; refused when unset outside demo mode (draws cannot freeze)."""
        if self.draw_auditor_key:
            return bytes.fromhex(self.draw_auditor_key)
        if self.demo:
            return DEMO_AUDITOR_KEY
        raise ConfigurationError(
            "未设置 SAFEWATCH_DRAW_AUDITOR_KEY（抽查人员化名密钥），不能冻结抽查；"
            "SAFEWATCH_DRAW_AUDITOR_KEY is unset: set 64 hex digits (openssl rand -hex 32) "
            "and give a copy to the auditors"
        )

    @property
    def own_replica_url(self) -> str:
        """The address other API replicas use to reach this process."""
        return self.replica_url or f"http://{self.http_host}:{self.http_port}"

    @property
    def draw_allows_no_public_value(self) -> bool:
        """Whether a draw may go without a public value (demo and test settings only)."""
        return self.demo or self.draw_test_mode

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.demo:
            return self
        if self.secret_key.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "SAFEWATCH_SECRET_KEY is missing or a placeholder; set a random value of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters (e.g. `openssl rand -hex 32`)"
            )
        if len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"SAFEWATCH_SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters"
            )
        if self.admin_password.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "SAFEWATCH_ADMIN_PASSWORD is missing or a placeholder; set a real password"
            )
        if len(self.admin_password) < 12:
            raise ValueError("SAFEWATCH_ADMIN_PASSWORD must be at least 12 characters")
        if self.mqtt_password is not None and self.mqtt_password.lower() in PLACEHOLDER_SECRETS:
            raise ValueError("SAFEWATCH_MQTT_PASSWORD is a placeholder; set a real password")
        if self.metrics_token is not None and (
            self.metrics_token.strip().lower() in PLACEHOLDER_SECRETS
            or len(self.metrics_token) < 16
        ):
            raise ValueError(
                "SAFEWATCH_METRICS_TOKEN must be a random value of at least 16 characters"
            )
        return self

    @property
    def tz(self) -> ZoneInfo:
        """The bureau's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def mqtt_host(self) -> str:
        """Broker host from the MQTT URL."""
        return urlsplit(self.mqtt_url).hostname or "127.0.0.1"

    @property
    def mqtt_port(self) -> int:
        """Broker port from the MQTT URL (1883, or 8883 for mqtts)."""
        parts = urlsplit(self.mqtt_url)
        return parts.port or (8883 if parts.scheme == "mqtts" else 1883)

    @property
    def mqtt_tls(self) -> bool:
        """Whether the broker URL asks for TLS."""
        return urlsplit(self.mqtt_url).scheme == "mqtts"


DEMO_SECRET_KEY = "demo-secret-key-not-for-production"
#: The demo's pseudonym key (demo mode only: anyone can map demo pseudonyms back).
DEMO_AUDITOR_KEY = bytes(range(32))
DEMO_ADMIN_PASSWORD = "demo-admin"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment plus overrides; ConfigurationError on any problem."""
    try:
        env_keys = {k for k in os.environ if k.startswith("SAFEWATCH_")}
        known = {f"SAFEWATCH_{name.upper()}" for name in Settings.model_fields}
        unknown = sorted(env_keys - known - DEPLOYMENT_ONLY)
        if unknown:
            raise ConfigurationError(
                f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return Settings(**overrides)  # type: ignore[arg-type]
    except ConfigurationError:
        raise
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            msg = str(err["msg"]).removeprefix("Value error, ")
            loc = ".".join(str(p) for p in err["loc"])
            problems.append(msg if not loc else f"SAFEWATCH_{loc.upper()}: {msg}")
        raise ConfigurationError("; ".join(problems)) from exc


@lru_cache(maxsize=1)
def demo_settings() -> Settings:
    """Settings for `safewatch demo`: demo secrets allowed."""
    return load_settings(demo=True, secret_key=DEMO_SECRET_KEY, admin_password=DEMO_ADMIN_PASSWORD)
