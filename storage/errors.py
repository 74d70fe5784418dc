"""One place that maps psycopg errors to the domain's errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import psycopg
from psycopg import errors as pg

from domain.errors import (
    Conflict,
    Immutable,
    NotFound,
    SafewatchError,
    StorageUnavailable,
    ValidationFailed,
)

#: SQLSTATE raised by our own triggers when a published record is touched.
IMMUTABLE_SQLSTATE = "SW001"


def translate(exc: psycopg.Error) -> SafewatchError:
    """Return the domain error for a psycopg error (the original is kept as __cause__)."""
    diag = getattr(exc, "diag", None)
    detail = getattr(diag, "message_detail", None)
    constraint = getattr(diag, "constraint_name", None)
    if exc.sqlstate == IMMUTABLE_SQLSTATE:
        return Immutable(str(getattr(diag, "message_primary", exc)))
    if isinstance(exc, pg.UniqueViolation):
        return Conflict(f"already exists ({constraint})", details={"detail": detail})
    if isinstance(exc, pg.ForeignKeyViolation):
        return NotFound(
            f"refers to something that does not exist ({constraint})", details={"detail": detail}
        )
    if isinstance(exc, pg.CheckViolation | pg.NotNullViolation | pg.DataError):
        return ValidationFailed(
            f"rejected by the database: {getattr(diag, 'message_primary', exc)}",
            details={"constraint": constraint},
        )
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return StorageUnavailable("database unavailable")
    return SafewatchError(f"database error {exc.sqlstate or ''}".strip())


@contextmanager
def mapped_errors() -> Iterator[None]:
    """Re-raise psycopg errors inside the block as domain errors."""
    try:
        yield
    except psycopg.Error as exc:
        raise translate(exc) from exc


@asynccontextmanager
async def amapped_errors() -> AsyncIterator[None]:
    """Async twin of `mapped_errors`."""
    try:
        yield
    except psycopg.Error as exc:
        raise translate(exc) from exc
