"""The documented deployment starts: docs/operations.md's commands, then docker-compose.yml run
service by service without Docker (tests/integration/compose_local.py says what is mapped),
until every service is healthy, `admin` signs in over HTTPS through the proxy, and an event a
site publishes over MQTT/TLS with its own generated account is stored and shown by the API."""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from domain.credit_code import make_credit_code
from tests.integration.compose_local import (
    BROKER_IMAGE_IDS,
    LocalStack,
    broker_ids,
    load,
    port_open,
    run_shell,
)

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
BIN = str(Path(sys.executable).parent)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def docs_block(name: str) -> list[str]:
    """The shell lines of one marked block of docs/operations.md."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    found = re.search(
        rf"<!-- deploy:{name} -->\s*```sh\n(.*?)```\s*<!-- /deploy:{name} -->", text, re.S
    )
    assert found, f"docs/operations.md has no deploy:{name} block"
    return [line for line in found.group(1).splitlines() if line.strip()]


def _require_tools() -> None:
    if not port_open(5439):
        if os.environ.get("SW_REQUIRE_TIMESCALE"):
            pytest.fail("no TimescaleDB cluster on 127.0.0.1:5439 (make timescaledb)")
        pytest.skip("no TimescaleDB cluster on 127.0.0.1:5439 (make timescaledb starts one)")
    for tool in ("mosquitto", "caddy", "openssl", "curl", "wget", "mosquitto_sub", "pg_isready"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            pytest.fail(f"{tool} is not installed (scripts/system-packages.sh installs it)")


@pytest.fixture
def project() -> Iterator[Path]:
    """A deployment directory: the compose file and deploy/ as in the repository."""
    path = Path(tempfile.mkdtemp(prefix="swdeploy-"))
    path.chmod(0o755)  # the broker's user must reach the mounted files, as in a bind mount
    shutil.copy(ROOT / "docker-compose.yml", path / "docker-compose.yml")
    (path / "deploy").mkdir(mode=0o755)
    shutil.copy(ROOT / "deploy" / "Caddyfile", path / "deploy" / "Caddyfile")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _path() -> str:
    extra = ":/usr/sbin" if "/usr/sbin" not in os.environ.get("PATH", "") else ""
    return f"{BIN}:{os.environ.get('PATH', '')}{extra}"


def run_documented(
    lines: list[str], project: Path, env: dict[str, str], stack: LocalStack | None
) -> tuple[dict[str, str], LocalStack | None]:
    """Run documented lines in order: shell lines with bash, `docker compose …` on the stack."""
    shell: list[str] = []

    def flush() -> None:
        nonlocal env
        if shell:
            env = run_shell("\n".join(shell), cwd=project, env=env)
            shell.clear()

    for line in lines:
        if not line.startswith("docker compose "):
            # The image's broker uid maps to the local broker user, like its ports.
            shell.append(line.replace(BROKER_IMAGE_IDS, broker_ids()))
            continue
        flush()
        words = line.split()[2:]
        if words == ["up", "-d"]:
            stack = LocalStack(project, load(project / "docker-compose.yml", env), env, _path())
            try:
                stack.up()
            except BaseException:
                stack.down()  # never leave a half-started stack's processes behind
                raise
        elif words[:2] == ["run", "--rm"] and stack is not None:
            done = stack.run(words[2])
            assert done.returncode == 0, done.stderr.decode()
        elif words[:2] == ["kill", "-s"] and stack is not None:
            stack.kill(words[3], signal.Signals[f"SIG{words[2]}"])
        else:
            raise AssertionError(f"the test does not know how to run {line!r}")
    flush()
    return env, stack


def _wait(check, what: str, timeout: float = 120.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {timeout:.0f} s (last: {last!r})")


def _publish(stack: LocalStack, project: Path, code: str, password: str, event: dict) -> bool:
    """The site agent publishes one event over MQTT/TLS with the enterprise's own account."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAFEWATCH_", "SWAGENT_"))}
    env |= {
        "PATH": _path(),
        "SWAGENT_MQTT_URL": f"mqtts://localhost:{stack.services['mosquitto'].ports[8883]}",
        "SWAGENT_MQTT_USERNAME": code,
        "SWAGENT_MQTT_PASSWORD": password,
        "SWAGENT_MQTT_CA_FILE": str(project / "deploy" / "certs" / "ca.crt"),
    }
    done = subprocess.run(
        ["safewatch", "agent", "--enterprise", code, "--event", json.dumps(event)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode == 0


def test_documented_deployment_starts_and_serves(project: Path) -> None:
    _require_tools()
    base = {k: v for k, v in os.environ.items() if not k.startswith("SAFEWATCH_")}
    base["PATH"] = _path()
    first = docs_block("first-start")
    assert first[-1] == "docker compose up -d"
    env, stack = run_documented(first, project, base, None)
    assert stack is not None
    try:
        # The generated broker files as compose mounts them: readable by the broker's user.
        modes = {p.name: p.stat().st_mode & 0o777 for p in (project / "deploy/mosquitto").iterdir()}
        assert modes["mosquitto.conf"] == modes["acl"] == modes["passwd"] == 0o644
        assert modes["credentials.csv"] == 0o600
        for name, svc in stack.services.items():
            if "healthcheck" in svc.spec and not svc.spec.get("profiles"):
                assert svc.healthy, name
        assert stack.services["migrate"].process is not None
        assert stack.services["migrate"].process.returncode == 0

        ca = ssl.create_default_context(cafile=str(project / "deploy/certs/ca.crt"))
        site = f"https://localhost:{stack.services['proxy'].ports[443]}"
        with httpx.Client(base_url=site, verify=ca, timeout=30) as web:
            login = web.post(
                "/api/v1/auth/token",
                data={"username": "admin", "password": env["SAFEWATCH_ADMIN_PASSWORD"]},
            )
            assert login.status_code == 200, login.text
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            code = make_credit_code("652301", int(uuid.uuid4().int % 10**8))
            created = web.post(
                "/api/v1/enterprises",
                headers=auth,
                json={
                    "credit_code": code,
                    "name": "昌吉部署测试化工有限公司",
                    "county": "昌吉市",
                    "sector": "hazchem_production",
                    "risk_colour": "orange",
                    "credit_class": "B",
                    "high_risk": True,
                },
            )
            assert created.status_code == 201, created.text

            env, _ = run_documented(docs_block("accounts"), project, env, stack)
            with (project / "deploy/mosquitto/credentials.csv").open() as fh:
                passwords = {r["username"]: r["password"] for r in csv.DictReader(fh)}
            event_id = f"compose-{uuid.uuid4().hex[:8]}"
            event = {
                "event_id": event_id,
                "ts": datetime.now(UTC).isoformat(),
                "type": "shutdown",
                "scope": "plant",
                "reason": "部署验证停产",
            }
            # SIGHUP makes the broker re-read passwd and acl asynchronously: retry until in.
            _wait(lambda: _publish(stack, project, code, passwords[code], event), "publish")

            def stored() -> bool:
                page = web.get(f"/api/v1/enterprises/{code}/events", headers=auth)
                return page.status_code == 200 and event_id in page.text

            _wait(stored, "the event stored and visible over HTTPS")
            assert web.get("/metrics").status_code == 404  # only on the metrics port
            redirect = httpx.get(
                f"http://localhost:{stack.services['proxy'].ports[80]}/", follow_redirects=False
            )
            assert redirect.status_code in (301, 308)
            assert redirect.headers["location"].startswith("https://")

        for name in ("api", "monitor", "scheduler"):
            port = stack.services[name].ports[9100]
            scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
            assert scraped.status_code == 200, name
            assert "safewatch_" in scraped.text or "process_" in scraped.text, name
        monitor_metrics = httpx.get(
            f"http://127.0.0.1:{stack.services['monitor'].ports[9100]}/metrics", timeout=10
        ).text
        assert re.search(r"^safewatch_events_stored_total 1\.0$", monitor_metrics, re.M)
        for name in ("migrate", "api", "monitor", "scheduler"):
            lines = [ln for ln in (stack.work / f"{name}.log").read_text().splitlines() if ln]
            assert lines, name
            for line in lines:
                entry = json.loads(line)  # SAFEWATCH_LOG_FORMAT=json is the compose default
                assert {"time", "level", "logger", "message"} <= set(entry), line
                assert entry["level"] not in ("ERROR", "CRITICAL"), (name, line)
    finally:
        for n, s in stack.services.items():  # shown by pytest when the test fails
            log.info("%s healthy=%s ports=%s\n%s", n, s.healthy, s.ports, stack.tail(n, 12))
        stack.down()
