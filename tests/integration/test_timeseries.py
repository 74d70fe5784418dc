"""Maintenance works the same on whichever path the server offers (CI: native partitions).

Point SW_TEST_DATABASE_URL at a TimescaleDB server to run these on hypertables.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from storage import timeseries

NOW = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)


async def test_rollup_refresh_needs_autocommit_and_aggregates(db_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(db_url) as conn:
        with pytest.raises(ValueError, match="autocommit"):
            await timeseries.refresh_rollup(conn, start=NOW - timedelta(hours=3), end=NOW)
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        base = NOW - timedelta(hours=2, minutes=30)
        await conn.execute(
            "INSERT INTO telemetry SELECT %(base)s + i * interval '1 min', 'E', 'T', i"
            " FROM generate_series(0, 119) i",
            {"base": base},
        )
        await timeseries.refresh_rollup(conn, start=base, end=base + timedelta(hours=2))
        rows = await (
            await conn.execute(
                "SELECT n, min_value, max_value FROM telemetry_hourly WHERE enterprise_id = 'E'"
                " ORDER BY bucket"
            )
        ).fetchall()
    assert rows == [(60, 0.0, 59.0), (60, 60.0, 119.0)]


async def test_partitions_ahead_and_retention(db_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        timescale = await timeseries.is_timescale(conn)
        await timeseries.ensure_partitions(conn, months_ahead=6)
        if not timescale:
            far = await (
                await conn.execute(
                    "SELECT to_regclass(%(n)s) IS NOT NULL",
                    {"n": "telemetry_" + (NOW + timedelta(days=5 * 31)).strftime("%Y%m")},
                )
            ).fetchone()
            assert far == (True,)
        old = NOW - timedelta(days=500)
        await conn.execute("INSERT INTO telemetry VALUES (%(ts)s, 'E', 'T', 1)", {"ts": old})
        if not timescale:
            await conn.execute("SELECT sw_ensure_month_partition('telemetry', %(ts)s)", {"ts": old})
        await conn.execute("INSERT INTO telemetry VALUES (%(ts)s, 'E', 'T', 2)", {"ts": NOW})
        await timeseries.apply_retention(conn, now=NOW, telemetry_days=400, events_days=3650)
        if timescale:  # the policy job drops chunks; run it now
            job = await (
                await conn.execute(
                    "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name ="
                    " 'policy_retention' AND hypertable_name = 'telemetry'"
                )
            ).fetchone()
            assert job is not None
            await conn.execute("CALL run_job(%(id)s)", {"id": job[0]})
        values = await (await conn.execute("SELECT value FROM telemetry ORDER BY ts")).fetchall()
    assert values == [(2.0,)]


async def test_rollup_survives_absurd_stored_values(db_url: str) -> None:
    """Two readings of 1.7e308 (stored before values were bounded) made the one rollup
    statement overflow for every enterprise; now they are left out and the others roll up."""
    base = NOW - timedelta(hours=2, minutes=30)
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        await conn.execute(
            "INSERT INTO telemetry SELECT %(base)s + i * interval '1 min', e, 'T', i"
            " FROM generate_series(0, 59) i, unnest(ARRAY['BAD', 'GOOD']) e",
            {"base": base},
        )
        await conn.execute(
            "INSERT INTO telemetry VALUES (%(ts)s, 'BAD', 'T', 1.7e308),"
            " (%(ts)s, 'BAD', 'T', 1.7e308)",
            {"ts": base + timedelta(minutes=5)},
        )
        await timeseries.refresh_rollup(conn, start=base, end=base + timedelta(hours=2))
        rows = await (
            await conn.execute(
                "SELECT enterprise_id, n, min_value, max_value, avg_value FROM telemetry_hourly"
                " ORDER BY enterprise_id, bucket"
            )
        ).fetchall()
    assert [r[0] for r in rows].count("GOOD") >= 1
    assert sum(r[1] for r in rows if r[0] == "GOOD") == 60
    assert sum(r[1] for r in rows if r[0] == "BAD") == 60  # the absurd readings left out
    assert max(r[3] for r in rows) == 59.0
