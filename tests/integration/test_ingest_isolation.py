"""One site's bad messages never slow the ingest for everyone: bad offsets are refused before the
database (≥ 0.8 × the clean rate), and messages the database itself refuses are found by
bisection, each logged on one line without a traceback."""

from __future__ import annotations

import json
import logging
import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from config.settings import Settings
from monitor.ingest import Ingest
from monitor.parse import Inbound
from monitor.topics import Topics
from tests.integration.monitor_support import seed

log = logging.getLogger(__name__)
N = 1000
ROUNDS = 25
POISON_EVERY = 50  # 2 %


def _inbound(topic: str, body: dict[str, object], mid: int) -> Inbound:
    return Inbound(topic, json.dumps(body).encode(), 1, mid, False, 0, time.time())


def _events(
    topics: Topics, ents: list[str], tag: str, *, poison: str | None, n: int = N
) -> list[Inbound]:
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        bad = poison is not None and i % POISON_EVERY == POISON_EVERY - 1
        ent = ents[0] if bad else ents[i % len(ents)]
        # In publication order and within the last millisecond: a round never overlaps the one
        # before, so no round pays for an out-of-order replay of the enterprises' history.
        stamp = (now - timedelta(microseconds=n - i)).isoformat()
        if bad and poison == "offset":  # the probe: PostgreSQL refuses +23:00
            stamp = now.replace(tzinfo=None).isoformat() + "+23:00"
        body = {
            "event_id": f"{tag}-{'poison' if bad and poison == 'db' else 'ok'}-{i}",
            "ts": stamp,
            "type": "maintenance_start",
            # A few job ids reused (a repeated start reopens the job): every round meets the same
            # open maintenance, so no round pays for the jobs that the earlier ones opened.
            "maint_id": f"m{i % 8}",
            "scope": "unit",
            "units": ["U1"],
        }
        out.append(_inbound(topics.uplink(ent, "event"), body, i + 1))
    return out


async def _drain(ingest: Ingest, msgs: list[Inbound]) -> float:
    """Feed the real handler batch by batch (as the client would); return messages per second."""
    started = time.perf_counter()
    for i in range(0, len(msgs), 1000):
        await ingest.handle(msgs[i : i + 1000])
    return len(msgs) / (time.perf_counter() - started)


async def _count(pool, query: str) -> int:
    async with pool.connection() as conn:
        row = await (await conn.execute(query)).fetchone()
    return int(row[0])


async def test_bad_offsets_from_one_site_keep_the_clean_rate(settings: Settings, pool) -> None:
    ents = await seed(pool, 4)
    ingest = Ingest(settings, pool, client_id="isolation")
    topics = ingest.topics
    await _drain(ingest, _events(topics, ents, "warm", poison=None)[:200])  # caches, plans
    ratios, clean_rates = [], []
    for r in range(ROUNDS):  # pairs of rounds back to back, in both orders
        rate = {}
        for poison in (None, "offset") if r % 2 else ("offset", None):
            msgs = _events(topics, ents, f"bad{r}" if poison else f"clean{r}", poison=poison)
            rate[poison] = await _drain(ingest, msgs)
        ratios.append(rate["offset"] / rate[None])
        clean_rates.append(rate[None])
    await ingest.close()
    # Other work on the machine slows single rounds at random: the median pair is robust to it.
    ratio, clean = statistics.median(ratios), statistics.median(clean_rates)
    refused = await _count(
        pool, "SELECT count(*) FROM rejected_messages WHERE code = 'timestamp_invalid'"
    )
    stored = await _count(pool, "SELECT count(*) FROM events WHERE event_id LIKE 'bad%'")
    log.warning(
        "clean %.0f/s (median round), 2 %% bad offsets: median pair ratio %.2f (pairs %.2f-%.2f)",
        clean,
        ratio,
        min(ratios),
        max(ratios),
    )
    assert refused == ROUNDS * (N // POISON_EVERY)
    assert stored == ROUNDS * (N - N // POISON_EVERY)
    # Issue 11: >= 0.8 x the clean rate. (The 0.60 x measured on an idle machine before was the
    # test's own doing: every round opened 250 more maintenance jobs per enterprise and, at more
    # than 1,000/s, overlapped the previous round in event time, forcing replays, so each
    # poisoned round ran on more state than the clean round it was compared with.)
    assert ratio >= 0.8


@pytest.mark.timeout(300)
async def test_database_refusals_are_bisected_and_logged_once(
    settings: Settings, pool, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    ents = await seed(pool, 4)
    # A fault the parser cannot see: the database refuses some rows (a trigger the test owns).
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " IF NEW.event_id LIKE '%-poison-%' THEN RAISE EXCEPTION 'poisoned row'; END IF;"
            " RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION poison()"
        )
    ingest = Ingest(settings, pool, client_id="bisect")
    caplog.set_level(logging.WARNING, logger="monitor.ingest")
    total = 400
    rate = await _drain(ingest, _events(ingest.topics, ents, "db", poison="db", n=total))
    await ingest.close()
    bad = total // POISON_EVERY
    stored = await _count(pool, "SELECT count(*) FROM events WHERE event_id LIKE 'db-ok-%'")
    refused = await _count(
        pool, "SELECT count(*) FROM rejected_messages WHERE code = 'storage_refused'"
    )
    log.warning(
        "2 %% refused by the database: %.0f/s in %d transactions for %d",
        rate,
        ingest.transactions,
        total,
    )
    assert stored == total - bad
    assert refused == bad
    # One by one would be n transactions; bisection costs about 2·k·log2(n/k).
    assert ingest.transactions < total // 3
    lines = [r for r in caplog.records if "could not be stored" in r.getMessage()]
    assert len(lines) == bad
    assert all(r.exc_info is None for r in caplog.records if r.name == "monitor.ingest")
