"""Each process alone is a scrape target: `safewatch monitor` and `safewatch scheduler` answer
/metrics and /healthz on SAFEWATCH_METRICS_PORT; the API's /metrics can be restricted; JSON
log lines parse one by one; every HTTP response carries a request id that its log lines share."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from config.settings import Settings
from monitor.broker import BrokerProcess, free_port
from tests.conftest import TEST_ADMIN_PASSWORD, TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-0123456789abcdef"

pytestmark = pytest.mark.timeout(180)


def _env(settings: Settings, broker: BrokerProcess, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFEWATCH_")}
    return env | {
        "SAFEWATCH_DATABASE_URL": settings.database_url,
        "SAFEWATCH_MQTT_URL": f"mqtt://{broker.host}:{broker.port}",
        "SAFEWATCH_MQTT_TOPIC_PREFIX": settings.mqtt_topic_prefix,
        "SAFEWATCH_MQTT_CLIENT_ID": f"ops-{os.getpid()}-{port}",
        "SAFEWATCH_SECRET_KEY": TEST_SECRET,
        "SAFEWATCH_ADMIN_PASSWORD": TEST_ADMIN_PASSWORD,
        "SAFEWATCH_DATA_DIR": str(settings.data_dir),
        "SAFEWATCH_METRICS_PORT": str(port),
        "SAFEWATCH_LOG_FORMAT": "json",
        "SAFEWATCH_METRICS_TOKEN": TOKEN,
        **extra,
    }


@pytest.fixture
def started(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[tuple]]:
    """Processes started by a test, stopped with SIGTERM afterwards (their logs kept)."""
    procs: list[tuple] = []
    yield procs
    for proc, _log in procs:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _start(command: str, env: dict[str, str], log: Path, procs: list[tuple]) -> None:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "safewatch.py"), command],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    procs.append((proc, log))


def _scrape_when_healthy(port: int, metric: str, proc: subprocess.Popen, log: Path) -> str:
    """Wait until /healthz is 200 and `metric` reads 1; return the metrics text."""
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    last = ""
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            health = httpx.get(f"{base}/healthz", timeout=5)
            text = httpx.get(
                f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
            ).text
            last = health.text
            if health.status_code == 200 and f"\n{metric} 1.0" in text:
                return text
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{metric} / healthz not ready: {last}\n{log.read_text()[-3000:]}")


def _json_lines(log: Path) -> list[dict]:
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert lines
    return [json.loads(line) for line in lines]  # every line, or this raises


@pytest.mark.parametrize(
    ("command", "metric"),
    [("monitor", "safewatch_mqtt_connected"), ("scheduler", "safewatch_scheduler_leader")],
)
def test_process_alone_serves_metrics_and_health(
    command: str,
    metric: str,
    settings: Settings,
    project_broker: BrokerProcess,
    tmp_path: Path,
    started: list[tuple],
) -> None:
    port = free_port()
    log = tmp_path / f"{command}.log"
    _start(command, _env(settings, project_broker, port), log, started)
    _scrape_when_healthy(port, metric, started[0][0], log)
    base = f"http://127.0.0.1:{port}"
    denied = httpx.get(f"{base}/metrics", timeout=5)
    assert denied.status_code == 401  # SAFEWATCH_METRICS_TOKEN is set
    assert (
        httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    )
    health = httpx.get(f"{base}/healthz", timeout=5).json()
    assert health["database"]["ok"] is True
    if command == "monitor":
        assert health["broker"]["ok"] is True
        assert health["ingest"]["ok"] is True
    project_broker.stop()  # the monitor's health follows its broker
    if command == "monitor":
        deadline = time.monotonic() + 60
        while httpx.get(f"{base}/healthz", timeout=5).status_code != 503:
            assert time.monotonic() < deadline, "monitor stayed healthy without its broker"
            time.sleep(0.3)
    started[0][0].terminate()
    started[0][0].wait(timeout=30)
    entries = _json_lines(log)
    assert {"time", "level", "logger", "message", "enterprise", "event_id", "request_id"} <= set(
        entries[0]
    )
    routine = [e for e in entries if e["logger"].startswith("apscheduler") and e["level"] == "INFO"]
    assert not routine  # per-run INFO lines are off; failures (ERROR) still show


def test_api_metrics_restricted_by_token(settings: Settings) -> None:
    guarded = settings.model_copy(update={"metrics_token": TOKEN})
    with TestClient(create_app(guarded)) as c:
        assert c.get("/metrics").status_code == 401
        ok = c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200
        assert "safewatch_" in ok.text


def test_api_metrics_moved_to_the_metrics_port(settings: Settings) -> None:
    moved = settings.model_copy(update={"metrics_port": free_port()})
    with TestClient(create_app(moved)) as c:
        assert c.get("/metrics").status_code == 404
        assert c.get("/healthz").status_code == 200


def test_request_id_echoed_and_in_log_lines(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    from config.logs import JsonFormatter

    app = create_app(settings)

    @app.get("/_probe_log")
    async def probe_log() -> dict[str, bool]:
        logging.getLogger("api.probe").warning("inside the request")
        return {"ok": True}

    with TestClient(app) as c, caplog.at_level(logging.INFO):
        res = c.get("/_probe_log")
        assert res.status_code == 200
        rid = res.headers["x-request-id"]
        assert len(rid) == 32
        given = c.get("/healthz", headers={"X-Request-ID": "proxy-abc.123"})
        assert given.headers["x-request-id"] == "proxy-abc.123"
        odd = c.get("/healthz", headers={"X-Request-ID": "bad id;with space"})
        assert odd.headers["x-request-id"] != "bad id;with space"
        assert c.post("/api/v1/auth/token", data={}).headers["x-request-id"]  # errors too
    tagged = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    inside = [e for e in tagged if e["message"] == "inside the request"]
    assert [e["request_id"] for e in inside] == [rid]
