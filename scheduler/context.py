"""What jobs reach at run time (jobs are stored by reference, so they cannot capture objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import AsyncConnectionPool

from config.settings import Settings


@dataclass
class JobContext:
    """The live objects a job needs; set once when the scheduler starts."""

    settings: Settings
    pool: AsyncConnectionPool
    extras: dict[str, Any] = field(default_factory=dict)


_current: JobContext | None = None


def set_context(ctx: JobContext | None) -> None:
    """Install (or clear) the context jobs will see."""
    global _current
    _current = ctx


def current() -> JobContext:
    """The installed context; a job run without one is a programming error."""
    if _current is None:
        raise RuntimeError("scheduler context is not set")
    return _current
