"""Runs docker-compose.yml without Docker: every service as a local process, healthchecks as
written, depends_on conditions honoured (tests/integration/test_compose_stack.py).

What differs from Docker, and only this: images are replaced by the local programs
(`timescale` → the PostgreSQL 15 cluster with the TimescaleDB build on 127.0.0.1:5439 and a fresh
database; `eclipse-mosquitto` → Debian's mosquitto; `caddy` → Debian's caddy; `build: .` → the
`safewatch` console script), and names are mapped consistently: every port a service listens on
gets a free local port, `service:port` becomes `localhost:local-port`, container paths become
the host paths that compose mounts (named volumes: fresh directories), and the broker image's
uid 1883 becomes the local `mosquitto` user. Everything else — commands, environment, config
files, healthcheck commands — is taken from the compose file as written.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg import sql

from monitor.broker import free_port

TIMESCALE_URL = "postgresql://postgres@127.0.0.1:5439/postgres"
#: Ports a service listens on that neither `ports` nor `expose` lists (Caddy's admin API).
INTERNAL_PORTS = {"proxy": [2019, 80]}
#: The uid:gid that the eclipse-mosquitto image runs the broker as.
BROKER_IMAGE_IDS = "1883:1883"

_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_]\w*)")


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's variable substitution: $$, ${V}, ${V:-d}, ${V-d}, ${V:?e}, ${V?e}, $V."""

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3) or ""
        value = env.get(name)
        if op in (":-", ":?") and not value:
            value = None
        if value is None:
            if op and op.endswith("?"):
                raise ValueError(f"compose refuses to start: {name}: {arg}")
            return arg if op and op.endswith("-") else ""
        return value

    return _VAR.sub(one, text)


def _walk(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return interpolate(value, env)
    if isinstance(value, list):
        return [_walk(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _walk(v, env) for k, v in value.items()}
    return value


def load(path: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """The compose file with anchors merged and variables substituted."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return dict(_walk(data, env))


def broker_ids() -> str:
    """The local broker user's uid:gid (what the image's 1883:1883 maps to)."""
    entry = pwd.getpwnam("mosquitto")
    return f"{entry.pw_uid}:{entry.pw_gid}"


def _ports(name: str, svc: Mapping[str, Any]) -> list[int]:
    found = [int(str(p).split(":")[-1].split("/")[0]) for p in svc.get("ports", [])]
    found += [int(str(p)) for p in svc.get("expose", [])]
    return sorted(set(found + INTERNAL_PORTS.get(name, [])))


@dataclass
class Service:
    """One compose service and its local stand-in."""

    name: str
    spec: dict[str, Any]
    ports: dict[int, int]
    mounts: dict[str, Path]
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    exit_code: int | None = None
    healthy: bool = False


@dataclass
class LocalStack:
    """The services of one compose file, started and checked as compose would."""

    project: Path
    compose: dict[str, Any]
    env: dict[str, str]
    path: str
    work: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="swcompose-")))
    services: dict[str, Service] = field(default_factory=dict)
    database: str = field(default_factory=lambda: f"sw_compose_{os.getpid()}")

    def __post_init__(self) -> None:
        self.work.chmod(0o755)
        for name, spec in self.compose["services"].items():
            mounts: dict[str, Path] = {}
            for vol in spec.get("volumes", []):
                src, dst = vol.split(":")[:2]
                if src.startswith((".", "/")):
                    mounts[dst] = (self.project / src).resolve()
                else:  # a named volume: a fresh directory, owned as in the image
                    mounts[dst] = self.work / "volumes" / name / src
                    mounts[dst].mkdir(parents=True, exist_ok=True)
            ports = {p: free_port() for p in _ports(name, spec)}
            self.services[name] = Service(name, spec, ports, mounts)
        data = self.services["mosquitto"].mounts["/mosquitto/data"]
        shutil.chown(data, "mosquitto", "mosquitto")
        data.parent.chmod(0o755)

    # -- name mapping -------------------------------------------------------------------------

    def translate(self, text: str, own: Service) -> str:
        """Container view → local view: other services' host:port, own ports, mounted paths."""
        # The compose database (POSTGRES_DB) is this run's fresh one on the local cluster.
        text = text.replace("timescale:5432/safewatch", f"127.0.0.1:5439/{self.database}")
        for other in self.services.values():
            for inner, local in other.ports.items():
                text = text.replace(f"{other.name}:{inner}", f"localhost:{local}")
        for inner, local in own.ports.items():
            text = re.sub(rf"(?<![\w.]){inner}(?![\w])", str(local), text)
        for dst in sorted(own.mounts, key=len, reverse=True):
            text = re.sub(
                rf"(?<![\w/]){re.escape(dst)}(?=$|[/\s\"',:])", str(own.mounts[dst]), text
            )
        return text

    def environment(self, svc: Service) -> dict[str, str]:
        """The service's environment as the container sees it, translated, plus PATH."""
        raw = svc.spec.get("environment", {}) or {}
        if isinstance(raw, list):
            raw = dict(item.split("=", 1) for item in raw)
        env = {k: self.translate(str(v), svc) for k, v in raw.items()}
        base = {k: v for k, v in os.environ.items() if not k.startswith(("SAFEWATCH_", "PG"))}
        return base | env | {"PATH": self.path}

    # -- starting -----------------------------------------------------------------------------

    def _spawn(self, svc: Service, argv: list[str], env: dict[str, str]) -> None:
        svc.log = self.work / f"{svc.name}.log"
        with svc.log.open("wb") as out:
            svc.process = subprocess.Popen(
                argv, env=env, cwd=self.work, stdout=out, stderr=subprocess.STDOUT
            )

    def _start_timescale(self, svc: Service) -> None:
        env = svc.spec["environment"]
        with psycopg.connect(TIMESCALE_URL, autocommit=True) as conn:
            role = sql.Identifier(env["POSTGRES_USER"])
            exists = conn.execute(
                "SELECT 1 FROM pg_roles WHERE rolname = %(r)s", {"r": env["POSTGRES_USER"]}
            ).fetchone()
            verb = sql.SQL("ALTER") if exists else sql.SQL("CREATE")
            # The image creates POSTGRES_USER as a superuser (it creates the extension).
            conn.execute(
                sql.SQL("{} ROLE {} SUPERUSER LOGIN PASSWORD {}").format(
                    verb, role, sql.Literal(env["POSTGRES_PASSWORD"])
                )
            )
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.database)
                )
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(self.database), role)
            )
        svc.ports[5432] = 5439

    def _start_mosquitto(self, svc: Service) -> None:
        conf_dst = "/mosquitto/config/mosquitto.conf"
        text = svc.mounts[conf_dst].read_text(encoding="utf-8")
        local_conf = self.work / "mosquitto.local.conf"
        local_conf.write_text(self.translate(text, svc), encoding="utf-8")
        local_conf.chmod(0o644)
        self._spawn(svc, ["mosquitto", "-c", str(local_conf)], self.environment(svc))

    def _start_caddy(self, svc: Service) -> None:
        text = svc.mounts["/etc/caddy/Caddyfile"].read_text(encoding="utf-8")
        local = self.work / "Caddyfile"
        local.write_text(self.translate(text, svc), encoding="utf-8")
        env = self.environment(svc)
        data = svc.mounts["/data"]
        # The image's XDG locations (/data, /config).
        env |= {"XDG_DATA_HOME": str(data), "XDG_CONFIG_HOME": str(self.work / "caddy-config")}
        argv = ["caddy", "run", "--config", str(local), "--adapter", "caddyfile"]
        self._spawn(svc, argv, env)

    def start(self, name: str, command: list[str] | None = None) -> Service:
        """Start one service's process (no dependency handling)."""
        svc = self.services[name]
        image = str(svc.spec.get("image", ""))
        if image.startswith("timescale/"):
            self._start_timescale(svc)
        elif image.startswith("eclipse-mosquitto"):
            self._start_mosquitto(svc)
        elif image.startswith("caddy"):
            self._start_caddy(svc)
        else:
            assert svc.spec.get("build") == ".", f"{name}: no local stand-in for {image!r}"
            argv = [self.translate(a, svc) for a in command or svc.spec["command"]]
            self._spawn(svc, argv, self.environment(svc))
        return svc

    # -- conditions ---------------------------------------------------------------------------

    def check_health(self, svc: Service) -> bool:
        """Run the service's healthcheck command once, as written (translated)."""
        test = svc.spec["healthcheck"]["test"]
        env = self.environment(svc)
        if svc.name == "timescale":  # the container's libpq defaults: its own server
            env |= {"PGHOST": "127.0.0.1", "PGPORT": "5439"}
        if test[0] == "CMD-SHELL":
            argv = ["sh", "-c", self.translate(test[1], svc)]
        else:
            argv = [self.translate(a, svc) for a in test[1:]]
        timeout = float(str(svc.spec["healthcheck"].get("timeout", "30s")).rstrip("s"))
        try:
            done = subprocess.run(argv, env=env, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0

    def wait(self, name: str, condition: str, *, timeout: float = 180.0) -> None:
        """Wait for a depends_on condition of `name` (healthy, completed, started)."""
        svc = self.services[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = svc.process
            if condition == "service_completed_successfully":
                if name == "timescale" or (proc is not None and proc.poll() == 0):
                    return
                if proc is not None and proc.poll() not in (None, 0):
                    raise AssertionError(f"{name} exited {proc.poll()}:\n{self.tail(name)}")
            else:
                if proc is not None and proc.poll() is not None:
                    raise AssertionError(f"{name} exited {proc.poll()}:\n{self.tail(name)}")
                if condition == "service_started" or "healthcheck" not in svc.spec:
                    return
                if self.check_health(svc):
                    svc.healthy = True
                    return
            time.sleep(0.5)  # the healthcheck interval, shortened: polling, not synchronising
        raise AssertionError(
            f"{name}: {condition} not reached in {timeout:.0f} s\n{self.tail(name)}"
        )

    def up(self) -> None:
        """`docker compose up -d`: start in dependency order, waiting on each condition."""
        started: set[str] = set()
        pending = [n for n, s in self.services.items() if not s.spec.get("profiles")]
        while pending:
            ready = [
                n
                for n in pending
                if all(d in started for d in self.services[n].spec.get("depends_on", {}))
            ]
            assert ready, f"dependency cycle among {pending}"
            for name in ready:
                for dep, cond in self.services[name].spec.get("depends_on", {}).items():
                    self.wait(dep, cond["condition"])
                self.start(name)
                started.add(name)
                pending.remove(name)
        for name in started:
            if "healthcheck" in self.services[name].spec:
                self.wait(name, "service_healthy")

    def run(self, name: str) -> subprocess.CompletedProcess[bytes]:
        """`docker compose run --rm NAME`: the service's command once, to completion."""
        svc = self.services[name]
        argv = [self.translate(a, svc) for a in svc.spec["command"]]
        return subprocess.run(
            argv, env=self.environment(svc), cwd=self.work, capture_output=True, timeout=120
        )

    def kill(self, name: str, sig: signal.Signals) -> None:
        """`docker compose kill -s SIG NAME`."""
        proc = self.services[name].process
        assert proc is not None, f"{name} was never started"
        assert proc.poll() is None, f"{name} is not running"
        proc.send_signal(sig)

    def tail(self, name: str, lines: int = 40) -> str:
        """The last lines a service wrote."""
        log = self.services[name].log
        if log is None or not log.exists():
            return "(no output)"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def down(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL) and drop the database."""
        for svc in reversed(list(self.services.values())):
            proc = svc.process
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        try:
            with psycopg.connect(TIMESCALE_URL, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(self.database)
                    )
                )
        except psycopg.Error:
            pass
        shutil.rmtree(self.work, ignore_errors=True)


def port_open(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def run_shell(script: str, *, cwd: Path, env: dict[str, str]) -> dict[str, str]:
    """Run documented shell lines with bash; return the environment they exported."""
    dump = cwd / ".env.dump"
    full = f"set -euo pipefail\n{script}\nenv -0 > {dump}\n"
    done = subprocess.run(
        ["bash", "-c", full], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, (
        f"documented commands failed:\n{script}\n{done.stdout}{done.stderr}"
    )
    pairs = [item.split("=", 1) for item in dump.read_text().split("\0") if "=" in item]
    dump.unlink()
    return dict(pairs)  # type: ignore[arg-type]
