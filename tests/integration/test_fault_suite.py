"""The fault and abuse suite (bench/faults.py) in its short CI form: monitor SIGKILL, PostgreSQL
restart (a cluster the suite owns), broker restart with persistence, session takeover attempts
on the production listeners, 3× and 10× bursts, generated payloads through the real parser and
handler — 0 lost and 0 duplicated in every scenario. The schemathesis run over the OpenAPI
schema is tests/integration/test_schemathesis.py."""

from __future__ import annotations

import logging
import shutil

import pytest

from bench import faults
from bench.fault_support import PG_BIN

log = logging.getLogger(__name__)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_fault_suite_short_form_loses_and_duplicates_nothing() -> None:
    if not (PG_BIN / "initdb").exists() or shutil.which("mosquitto") is None:
        pytest.fail(f"the suite needs PostgreSQL's initdb in {PG_BIN} and mosquitto")
    rows = faults.run(short=True)
    table = faults.table(rows)
    log.warning("fault suite (short form):\n%s", table)
    assert [r.scenario for r in rows] == [name for name, _ in faults.SCENARIOS]
    for r in rows:
        assert r.sent > 0, table
        assert r.lost == 0, table
        assert r.duplicated == 0, table
    by_name = {r.scenario: r for r in rows}
    assert by_name["session takeover"].stored == by_name["session takeover"].sent
    assert all(r.recovery_s is not None for r in rows[:3])
