"""What jobs reach at run time (jobs are stored by reference, so they cannot capture objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import AsyncConnectionPool

from config.policy import Policies
from config.settings import Settings


@dataclass
class JobContext:
    """The live objects a job needs; set once when the scheduler starts."""

    settings: Settings
    pool: AsyncConnectionPool
    policies: Policies
    extras: dict[str, Any] = field(default_factory=dict)


_installed: list[JobContext] = []


def set_context(ctx: JobContext | None) -> None:
    """Install a context (or, with None, remove the newest one); jobs see the newest."""
    if ctx is None:
        if _installed:
            _installed.pop()
        return
    _installed.append(ctx)


def current() -> JobContext:
    """The installed context; a job run without one is a programming error."""
    if not _installed:
        raise RuntimeError("scheduler context is not set")
    return _installed[-1]
