"""Migrations: empty database, idempotence, concurrent runners, both time-series paths' shape."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from storage.migrate import discover, migrate
from storage.pool import Capabilities, probe

ROOT = Path(__file__).resolve().parents[2]


def _applied(url: str) -> list[tuple[int, str]]:
    with psycopg.connect(url) as conn:
        return [
            (int(v), str(n))
            for v, n in conn.execute(
                "SELECT version, variant FROM schema_migrations ORDER BY version"
            )
        ]


def test_migrate_creates_the_database_and_applies_everything(empty_db_url: str) -> None:
    applied = migrate(empty_db_url)
    expected = [m.version for m in discover(_caps(empty_db_url))]
    assert applied == expected
    assert [v for v, _ in _applied(empty_db_url)] == expected
    with psycopg.connect(empty_db_url) as conn:
        for rel in ("events", "telemetry", "telemetry_hourly", "enterprises", "users"):
            assert conn.execute("SELECT to_regclass(%(r)s)::text", {"r": rel}).fetchone() == (rel,)


def test_applying_twice_changes_nothing(empty_db_url: str) -> None:
    migrate(empty_db_url)
    with psycopg.connect(empty_db_url) as conn:
        before = conn.execute("SELECT count(*) FROM pg_class").fetchone()
    assert migrate(empty_db_url) == []
    with psycopg.connect(empty_db_url) as conn:
        after = conn.execute("SELECT count(*) FROM pg_class").fetchone()
    assert before == after


def test_three_concurrent_migrate_commands_apply_each_migration_once(empty_db_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFEWATCH_")}
    env.update(
        SAFEWATCH_DATABASE_URL=empty_db_url,
        SAFEWATCH_SECRET_KEY="s" * 40,
        SAFEWATCH_ADMIN_PASSWORD="concurrent-test-pw",
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "safewatch", "migrate"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=60)[0].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    applied_lines = [
        line for out in outputs for line in out.splitlines() if "applying migration" in line
    ]
    versions = [m.version for m in discover(_caps(empty_db_url))]
    assert len(applied_lines) == len(versions)
    assert [v for v, _ in _applied(empty_db_url)] == versions


def _caps(url: str) -> Capabilities:
    with psycopg.connect(url) as conn:
        return probe(conn)


def _skip_unless_native(url: str) -> None:
    if _caps(url).timescaledb:
        pytest.skip("native-partition path; this server runs TimescaleDB")


def test_native_partitions_exist_ahead_and_catch_strays(db_url: str) -> None:
    _skip_unless_native(db_url)
    with psycopg.connect(db_url) as conn:
        parts = {
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'telemetry'::regclass"
            )
        }
        assert "telemetry_default" in parts
        assert len(parts) >= 5
        conn.execute("INSERT INTO telemetry VALUES ('2001-02-03T04:05:06+08', 'E', 't', 1.5)")
        conn.execute("SELECT sw_ensure_month_partition('telemetry', '2001-02-01T00:00Z')")
        where = conn.execute("SELECT tableoid::regclass::text FROM telemetry").fetchone()
        assert where == ("telemetry_200102",)
        assert conn.execute(
            "SELECT sw_drop_partitions_before('telemetry', '2002-01-01T00:00Z')"
        ).fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM telemetry").fetchone() == (0,)


def test_rollup_function_aggregates_hours(db_url: str) -> None:
    _skip_unless_native(db_url)
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO telemetry SELECT '2026-11-01T10:00Z'::timestamptz + i * interval '1 min',"
            " 'E', 'T1', i FROM generate_series(0, 119) i"
        )
        conn.execute("SELECT sw_refresh_telemetry_hourly('2026-11-01T00:00Z', '2026-11-02T00:00Z')")
        rows = conn.execute(
            "SELECT bucket, n, min_value, max_value FROM telemetry_hourly ORDER BY bucket"
        ).fetchall()
    assert [(r[1], r[2], r[3]) for r in rows] == [(60, 0, 59), (60, 60, 119)]


def test_migration_names_are_checked(tmp_path: Path) -> None:
    (tmp_path / "1_bad.sql").write_text("SELECT 1")
    with pytest.raises(ValueError, match="NNNN_name"):
        discover(Capabilities(timescaledb=False, server_version=0), tmp_path)
