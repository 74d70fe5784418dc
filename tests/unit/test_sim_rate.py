"""The demo simulator's alarm rate, measured on simulated time (no broker, no sleeping).

A duty room that sees hundreds of alarms in its first minute learns to ignore them: the default
profile must give a few alarms per hour per 100 enterprises, `--storm` many more.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from config.policy_monitoring import MonitoringPolicy, load_monitoring_policy
from config.settings import DEFAULT_POLICY_DIR
from demo.data import demo_enterprises
from monitor.sim_profile import NORMAL, STORM
from monitor.sim_rate import measure

TZ = ZoneInfo("Asia/Shanghai")
CODES = [e.credit_code for e in demo_enterprises(30)]


@pytest.fixture(scope="module")
def policy() -> MonitoringPolicy:
    return load_monitoring_policy(DEFAULT_POLICY_DIR)


def test_a_normal_day_gives_a_few_alarms_per_hour_per_100_enterprises(
    policy: MonitoringPolicy,
) -> None:
    # Friday noon to Sunday noon: two working half-days and a rest day, 48 h simulated.
    start = datetime(2026, 12, 11, 12, 0, tzinfo=TZ)
    report = measure(NORMAL, policy, codes=CODES, start=start, hours=48, tz=TZ)
    assert report.messages > 30 * 48 * 3600 / NORMAL.message_every_s * 0.9
    assert 1.0 <= report.per_hour_per_100 <= 6.0, report.alarms
    # Faults are rare and varied, not one rule firing all the time.
    assert max(report.alarms.values()) <= 0.7 * sum(report.alarms.values())


def test_the_first_hour_of_the_demo_is_quiet(policy: MonitoringPolicy) -> None:
    start = datetime(2026, 12, 9, 9, 0, tzinfo=TZ)
    report = measure(NORMAL, policy, codes=CODES, start=start, hours=1, tz=TZ)
    assert sum(report.alarms.values()) <= 5, report.alarms


def test_storm_is_a_load_of_alarms(policy: MonitoringPolicy) -> None:
    start = datetime(2026, 12, 9, 9, 0, tzinfo=TZ)
    report = measure(STORM, policy, codes=CODES[:10], start=start, hours=0.5, tz=TZ)
    assert report.per_hour_per_100 >= 200, report.alarms
    assert len(report.alarms) >= 5
