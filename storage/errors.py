"""One place that maps psycopg errors to the domain's errors."""

from __future__ import annotations

import logging
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
from domain.i18n import msg

log = logging.getLogger(__name__)

#: SQLSTATE raised by our own triggers when a published record is touched.
IMMUTABLE_SQLSTATE = "SW001"


def translate(exc: psycopg.Error) -> SafewatchError:
    """Return the domain error for a psycopg error (the original is kept as __cause__).

    The caller sees a fixed zh-CN/English sentence, never PostgreSQL's text: messages, details
    and constraint names name tables, columns and stored values. Operators find them in the log.
    """
    diag = getattr(exc, "diag", None)
    log.info(
        "database refused a statement: sqlstate=%s constraint=%s %s",
        exc.sqlstate,
        getattr(diag, "constraint_name", None),
        getattr(diag, "message_primary", None) or exc.__class__.__name__,
    )
    if exc.sqlstate == IMMUTABLE_SQLSTATE:
        return Immutable(msg("storage.immutable"))
    if isinstance(exc, pg.UniqueViolation):
        return Conflict(msg("storage.duplicate"))
    if isinstance(exc, pg.ForeignKeyViolation):
        return NotFound(msg("storage.reference_missing"))
    if isinstance(exc, pg.CheckViolation | pg.NotNullViolation | pg.DataError):
        return ValidationFailed(msg("storage.value_refused"))
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return StorageUnavailable(msg("storage.unavailable"))
    return SafewatchError(msg("storage.database_error", sqlstate=exc.sqlstate or ""))


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
