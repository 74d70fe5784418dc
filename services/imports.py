"""The one import pipeline (upload → parse → upsert → report → audit) behind the enterprise,
officer and tag imports: valid rows are stored, bad rows reported, the whole import audited."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from psycopg import AsyncConnection

from services.changes import Actor, Audit, record

Row = TypeVar("Row")
Problem = TypeVar("Problem")


@dataclass(frozen=True, slots=True)
class ParsedUpload(Generic[Row, Problem]):
    """A parsed upload: rows to store, per-row problems, header warnings, rows read."""

    valid: list[Row]
    errors: list[Problem]
    warnings: list[Problem]
    rows: int
    rejected: int


@dataclass(frozen=True, slots=True)
class Imported(Generic[Row, Problem]):
    """What an import did."""

    parsed: ParsedUpload[Row, Problem]
    created: int
    updated: int
    dry_run: bool

    def summary(self) -> dict[str, Any]:
        """The counts the audit log and the live change keep (never the rows themselves)."""
        return {
            "rows": self.parsed.rows,
            "created": self.created,
            "updated": self.updated,
            "rejected": self.parsed.rejected,
            "warnings": len(self.parsed.warnings),
            "dry_run": self.dry_run,
        }


async def run_import(
    conn: AsyncConnection[Any],
    *,
    data: bytes,
    filename: str,
    parse: Callable[[bytes, str], ParsedUpload[Row, Problem]],
    store: Callable[[AsyncConnection[Any], list[Row]], Awaitable[tuple[int, int]]],
    dry_run: bool,
    actor: Actor,
    action: str,
    target: str,
    kind: str,
    enterprise_id: str | None = None,
) -> Imported[Row, Problem]:
    """Parse off the event loop (the tabular reader refuses an empty or oversized file),
    upsert the valid rows (unless `dry_run`), audit and announce the import's counts;
    `store` returns (created, updated)."""
    parsed = await asyncio.to_thread(parse, data, filename)
    created = updated = 0
    if parsed.valid and not dry_run:
        created, updated = await store(conn, parsed.valid)
    done = Imported(parsed, created, updated, dry_run)
    if not dry_run:
        summary = done.summary() | {"file": filename[:200]}
        await record(
            conn,
            actor=actor,
            audit_entry=Audit(action, target, after=summary),
            changes=[(kind, enterprise_id, summary)],
        )
    return done
