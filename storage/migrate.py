"""Forward-only numbered SQL migrations applied once under an advisory lock.

Files live in storage/migrations as NNNN_name.sql. A migration whose behaviour depends on the
server ships two files instead, NNNN_name.timescale.sql and NNNN_name.native.sql; the runner
picks one from the server's capabilities and records which. A file whose first line is
``-- safewatch: no-transaction`` runs in autocommit (TimescaleDB continuous aggregates need it).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from storage.errors import mapped_errors
from storage.pool import Capabilities, ensure_database, probe

log = logging.getLogger(__name__)

LOCK_KEY = 0x5AFE_0001
_NAME = re.compile(
    r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+?)(?:\.(?P<variant>timescale|native))?\.sql$"
)
NO_TRANSACTION = "-- safewatch: no-transaction"

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    variant    text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
APPLIED = "SELECT version, checksum FROM schema_migrations ORDER BY version"
RECORD = """
INSERT INTO schema_migrations (version, name, variant, checksum)
VALUES (%(version)s, %(name)s, %(variant)s, %(checksum)s)
"""
LOCK = "SELECT pg_advisory_lock(%(key)s)"
UNLOCK = "SELECT pg_advisory_unlock(%(key)s)"


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file chosen for this server."""

    version: int
    name: str
    variant: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the SQL text, to detect an edited migration."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations_dir() -> Path:
    """Directory holding the packaged migration files."""
    return Path(str(resources.files("storage") / "migrations"))


def discover(caps: Capabilities, directory: Path | None = None) -> list[Migration]:
    """Return the migrations for a server with `caps`, in version order."""
    wanted = "timescale" if caps.timescaledb else "native"
    chosen: dict[int, Migration] = {}
    for path in sorted((directory or migrations_dir()).glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file name {path.name!r} is not NNNN_name[.variant].sql")
        variant = match["variant"] or "all"
        if variant not in ("all", wanted):
            continue
        version = int(match["version"])
        if version in chosen:
            raise ValueError(f"two migrations share version {version:04d}")
        chosen[version] = Migration(version, match["name"], variant, path.read_text("utf-8"))
    return [chosen[v] for v in sorted(chosen)]


def migrate(url: str, *, directory: Path | None = None) -> list[int]:
    """Create the database if needed and apply pending migrations; return the versions applied."""
    ensure_database(url)
    applied_now: list[int] = []
    with mapped_errors(), psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LOCK, {"key": LOCK_KEY})
        try:
            conn.execute(CREATE_TABLE)
            caps = probe(conn)
            with conn.cursor(row_factory=dict_row) as cur:
                applied = cur.execute(APPLIED).fetchall()
            done: dict[int, str] = {r["version"]: r["checksum"] for r in applied}
            for mig in discover(caps, directory):
                if mig.version in done:
                    if done[mig.version] != mig.checksum:
                        log.warning(
                            "migration %04d_%s changed after it was applied", mig.version, mig.name
                        )
                    continue
                _apply(conn, mig)
                applied_now.append(mig.version)
        finally:
            conn.execute(UNLOCK, {"key": LOCK_KEY})
    return applied_now


def _apply(conn: psycopg.Connection[Any], mig: Migration) -> None:
    log.info("applying migration %04d_%s (%s)", mig.version, mig.name, mig.variant)
    params = {
        "version": mig.version,
        "name": mig.name,
        "variant": mig.variant,
        "checksum": mig.checksum,
    }
    if mig.sql.startswith(NO_TRANSACTION):
        for statement in _split(mig.sql):
            conn.execute(statement.encode())
        conn.execute(RECORD, params)
        return
    with conn.transaction():
        conn.execute(mig.sql.encode())
        conn.execute(RECORD, params)


def _split(text: str) -> list[str]:
    """Split a no-transaction file on lines holding only ';;' (statements may contain ';')."""
    return [part.strip() for part in re.split(r"^;;\s*$", text, flags=re.M) if part.strip()]
