"""The scheduler's job-store URL keeps every part of the libpq URL, Unix sockets included."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from scheduler.service import sqlalchemy_url


@pytest.mark.parametrize(
    ("libpq", "host", "port", "database", "query"),
    [
        ("postgresql://postgres@127.0.0.1:5432/safewatch", "127.0.0.1", 5432, "safewatch", {}),
        (
            "postgresql://postgres:@/safewatch?host=/tmp/pg",
            None,
            None,
            "safewatch",
            {"host": "/tmp/pg"},
        ),
        (
            "postgresql://u:p%40ss@db:5433/x?sslmode=require",
            "db",
            5433,
            "x",
            {"sslmode": "require"},
        ),
    ],
)
def test_urls(
    libpq: str, host: str | None, port: int | None, database: str, query: dict[str, str]
) -> None:
    url = make_url(sqlalchemy_url(libpq))
    assert (url.host, url.port, url.database, dict(url.query)) == (host, port, database, query)
    assert url.drivername == "postgresql+psycopg"


def test_password_survives() -> None:
    assert make_url(sqlalchemy_url("postgresql://u:p%40ss@db/x")).password == "p@ss"
