"""Pieces of the fault suite (bench/faults.py): a PostgreSQL cluster the suite owns, the monitor
as a subprocess with its peak memory, a numbered QoS 1 publisher, counting what was stored."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitor.broker import BrokerProcess, free_port, start_mosquitto  # noqa: E402
from monitor.topics import Topics  # noqa: E402

PG_BIN = Path(os.environ.get("SAFEWATCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
SECRET = "fault-secret-key-0123456789abcdef0123456789"
ADMIN_PASSWORD = "fault-admin-password"


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class PgCluster:
    """A throw-away PostgreSQL cluster in a temporary directory on a free port (never the
    machine's own cluster), so the suite may stop and restart it."""

    def __init__(self) -> None:
        """initdb (trust auth, UTC); nothing runs before `start()`."""
        self.root = Path(tempfile.mkdtemp(prefix="swpg-"))
        self.data = self.root / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            capture_output=True,
        )

    @property
    def url(self) -> str:
        """The admin database's URL."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.root / "log"),
                    "-o",
                    opts,
                    "-w",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop (fast: sessions are terminated, as in a restart for maintenance)."""
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
            check=False,
            capture_output=True,
        )

    def destroy(self) -> None:
        """Stop and delete the cluster."""
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def database(self, name: str) -> str:
        """Create a database and return its URL."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"


def own_broker(**kw: Path) -> tuple[BrokerProcess, Path]:
    """Mosquitto with the project's config on a free port; its directory (owned by the
    broker's user when run as root) for restarts."""
    root = Path(tempfile.mkdtemp(prefix="swfault-"))
    (root / "broker").mkdir()
    if os.geteuid() == 0:
        for p in (root, root / "broker", *kw.values(), *{f.parent for f in kw.values()}):
            shutil.chown(p, "mosquitto", "mosquitto")
    return start_mosquitto(root / "broker", **kw), root  # type: ignore[arg-type]


class Monitor:
    """`safewatch monitor` as a subprocess; remembers the peak resident memory (VmHWM) over
    every incarnation."""

    def __init__(self, env: dict[str, str]) -> None:
        """Environment: SAFEWATCH_* settings of the monitor."""
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SAFEWATCH_")},
            "SAFEWATCH_SECRET_KEY": SECRET,
            "SAFEWATCH_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "SAFEWATCH_LOG_LEVEL": "WARNING",
            **env,
        }
        self.peak_kib = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Monitor:
        """Start (another) incarnation."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "safewatch", "monitor"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self

    def sample(self) -> None:
        """Read the process's high-water mark of resident memory."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_kib = max(self.peak_kib, int(line.split()[1]))

    def rss_kib(self) -> int:
        """Resident memory now (0 when not running)."""
        if self.proc is None or self.proc.poll() is not None:
            return 0
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def kill(self) -> None:
        """SIGKILL, as a crash."""
        self.sample()
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL after 15 s)."""
        self.sample()
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Publisher:
    """Publishes numbered QoS 1 events from a thread at a given rate; `accepted` are those the
    broker acknowledged (PUBACK) — the ones that must be stored exactly once."""

    def __init__(
        self,
        broker: BrokerProcess,
        prefix: str,
        ent: str,
        total: int,
        per_tick: int,
        *,
        tag: str = "f",
        tick_s: float = 0.05,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        """Connect (paho reconnects by itself); nothing is sent before `start()`."""
        self.topic = Topics(prefix).uplink(ent, "event")
        self.total = total
        self.per_tick = per_tick
        self.tick_s = tick_s
        self.tag = tag
        self.sent: list[tuple[str, int]] = []  # (event id, MQTT packet id) in publish order
        # Packet ids whose PUBACK reported success, appended by paho's network thread. A publish
        # made while the connection drops returns MQTT_ERR_NO_CONN (then `is_published()` raises)
        # yet stays queued and is re-sent on reconnect, so acknowledgements are counted here.
        self._acked_mids: list[int] = []
        self.c = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"pub-{tag}-{time.monotonic_ns()}",
            protocol=mqtt.MQTTv5,
        )
        if username:
            self.c.username_pw_set(username, password)
        self.c.on_publish = self._on_publish
        self.c.reconnect_delay_set(1, 2)
        self.c.max_inflight_messages_set(1000)
        self.c.connect(broker.host, broker.port)
        self.c.loop_start()
        self.finished_at: float | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _on_publish(
        self,
        _client: mqtt.Client,
        _userdata: object,
        mid: int,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if not reason_code.is_failure:
            self._acked_mids.append(mid)

    @property
    def accepted(self) -> set[str]:
        """Event ids the broker acknowledged (PUBACK). Packet ids wrap at 65,535; one id is never
        in flight twice at once, so its n acknowledgements belong to its first n messages."""
        acks = Counter(self._acked_mids)
        out: set[str] = set()
        for event_id, mid in self.sent:
            if acks[mid] > 0:
                acks[mid] -= 1
                out.add(event_id)
        return out

    def body(self, n: int) -> bytes:
        """Event number n: even numbers start maintenance job n // 2 of this publisher, odd ones
        end it, as a site reports maintenance — so the enterprise holds at most one open job per
        publisher, however long the stream (issue 11: a new job per event left 20,000 open jobs
        per enterprise and made every later event dearer). Every event has its own id, so each
        still counts once for lost and duplicated."""
        from datetime import UTC, datetime

        event_id = f"{self.tag}-{n:07d}"
        ts = datetime.now(UTC).isoformat()
        job = f"M{self.tag}-{n // 2}"
        if n % 2:
            return (
                f'{{"event_id": "{event_id}", "ts": "{ts}", "type": "maintenance_end",'
                f' "maint_id": "{job}"}}'
            ).encode()
        return (
            f'{{"event_id": "{event_id}", "ts": "{ts}", "type": "maintenance_start",'
            f' "maint_id": "{job}", "scope": "unit", "units": ["U1"]}}'
        ).encode()

    def _run(self) -> None:
        n = 0
        next_tick = time.monotonic()
        while n < self.total:
            if not self.c.is_connected():
                time.sleep(0.05)
                continue
            for _ in range(min(self.per_tick, self.total - n)):
                info = self.c.publish(self.topic, self.body(n), qos=1)
                if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:  # 65,535 unacknowledged: wait, resend
                    time.sleep(0.05)
                    break
                self.sent.append((f"{self.tag}-{n:07d}", info.mid))
                n += 1
            next_tick += self.tick_s
            time.sleep(max(0.0, next_tick - time.monotonic()))
        self.finished_at = time.monotonic()

    def start(self) -> Publisher:
        """Start publishing in the background."""
        self.thread.start()
        return self

    def wait(self, timeout: float = 120) -> None:
        """Until everything was sent and every PUBACK that will come came."""
        self.thread.join(timeout)
        deadline = time.monotonic() + timeout
        while len(self._acked_mids) < len(self.sent) and time.monotonic() < deadline:
            time.sleep(0.1)

    def close(self) -> None:
        """Disconnect."""
        self.c.disconnect()
        self.c.loop_stop()


def stored(db_url: str, like: str = "%") -> tuple[int, int]:
    """(rows, distinct event ids) in events whose id matches `like`."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM events WHERE event_id LIKE %(l)s",
            {"l": like},
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def wait_until(check: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
    """Poll `check` until true or the deadline; return the last result."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()
