"""Periodic checks one enterprise at a time: a bad row is logged, alarmed to duty staff as a data
problem and skipped — it never stops the check for the other enterprises."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection

from domain.alarms import Rule, RuleSpec
from domain.errors import SafewatchError, StorageUnavailable
from domain.i18n import msg
from domain.monitoring import NOTHING, AlarmAction, EnterpriseId, RuleOutcome, raise_one
from services import alarms as services

log = logging.getLogger(__name__)

T = TypeVar("T")


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0][:200]}" if text else exc.__class__.__name__


def is_outage(exc: BaseException) -> bool:
    """A database outage is the job's failure (re-raised), not one enterprise's bad data."""
    cause = exc.__cause__ if isinstance(exc, SafewatchError) else exc
    return isinstance(exc, StorageUnavailable) or isinstance(
        cause, psycopg.OperationalError | psycopg.InterfaceError
    )


@dataclass
class Problems:
    """Enterprises a job had to skip, with the reason (first one per enterprise)."""

    job: str
    found: dict[str, str] = field(default_factory=dict)

    def add(self, ent: str, exc: BaseException | str) -> None:
        """Record (and log, one line, no traceback) that `ent` was skipped."""
        why = exc if isinstance(exc, str) else _why(exc)
        log.warning("%s: skipped enterprise %s (stored data): %s", self.job, ent, why)
        self.found.setdefault(ent, why)

    def evaluate(self, ent: str, check: Callable[..., RuleOutcome], *args: Any) -> RuleOutcome:
        """Run a pure check for one enterprise; an exception skips that enterprise only."""
        try:
            return check(*args)
        except Exception as exc:
            self.add(ent, exc)
            return NOTHING

    def compute(self, ent: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """Run a pure function for one enterprise; None (and the enterprise skipped) when it
        raises."""
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            self.add(ent, exc)
            return None

    def outcome(self, now: datetime) -> RuleOutcome:
        """One `stored_data_invalid` alarm per skipped enterprise and job."""
        out = NOTHING
        for ent, why in sorted(self.found.items()):
            out += raise_one(
                EnterpriseId(ent),
                Rule.STORED_DATA_INVALID,
                f"job:{self.job}",
                msg("alarm.stored_data_invalid", job=self.job, error=why),
                at=now,
                job=self.job,
                error=why,
            )
        return out


async def load_isolated(
    conn: AsyncConnection[Any],
    problems: Problems,
    load_all: Callable[[], Awaitable[list[T]]],
    enterprises: Callable[[], Awaitable[list[str]]],
    load_one: Callable[[str], Awaitable[list[T]]],
) -> list[T]:
    """All rows at once; if the database refuses that, enterprise by enterprise (each in a
    savepoint), skipping the enterprises whose rows cannot be read."""
    try:
        async with conn.transaction():
            return await load_all()
    except Exception as exc:
        if is_outage(exc):
            raise
        log.warning("%s: reading every enterprise at once failed (%s)", problems.job, _why(exc))
    out: list[T] = []
    for ent in await enterprises():
        try:
            async with conn.transaction():
                out.extend(await load_one(ent))
        except Exception as exc:
            if is_outage(exc):
                raise
            problems.add(ent, exc)
    return out


async def load_by_enterprise(
    conn: AsyncConnection[Any],
    problems: Problems,
    load: Callable[..., Awaitable[list[T]]],
    enterprises: Callable[[], Awaitable[list[str]]],
) -> list[T]:
    """`load_isolated` for a reader called as `load()` for all and `load(ent=…)` for one."""
    return await load_isolated(conn, problems, load, enterprises, lambda ent: load(ent=ent))


async def write_isolated(
    conn: AsyncConnection[Any],
    problems: Problems,
    ent: str,
    write: Callable[[], Awaitable[T]],
) -> T | None:
    """One enterprise's writes in a savepoint: None (rolled back, the enterprise skipped) when
    the database refuses them; an outage is re-raised."""
    try:
        async with conn.transaction():
            return await write()
    except Exception as exc:
        if is_outage(exc):
            raise
        problems.add(ent, exc)
        return None


async def apply_isolated(
    conn: AsyncConnection[Any],
    outcome: RuleOutcome,
    problems: Problems,
    *,
    rules: dict[str, RuleSpec],
    now: datetime,
) -> int:
    """Apply the alarms enterprise by enterprise (savepoints), then the data-problem alarms;
    return how many alarms changed."""
    by_ent: dict[str, list[AlarmAction]] = {}
    for action in outcome.actions:
        by_ent.setdefault(str(action.key.enterprise_id), []).append(action)
    changed = 0
    for ent, actions in by_ent.items():
        done = await write_isolated(
            conn,
            problems,
            ent,
            partial(
                services.apply_outcome,
                conn,
                RuleOutcome(tuple(actions)),
                rules=rules,
                now=now,
                repeat=False,
            ),
        )
        changed += len(done or [])
    if problems.found:
        async with conn.transaction():
            changed += len(
                await services.apply_outcome(
                    conn, problems.outcome(now), rules=rules, now=now, repeat=False
                )
            )
    return changed
