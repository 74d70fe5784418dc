"""Gas analysis limits at their boundaries (GB 30871-2022 5.3.2 and 6, GBZ 2.1-2019)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from config.policy_monitoring import load_monitoring_policy
from config.settings import DEFAULT_POLICY_DIR
from domain.i18n import render
from domain.special_ops import GasReading, gas_problems, is_acceptable
from monitor.schemas import EVENT_ADAPTER

LIMITS = load_monitoring_policy(DEFAULT_POLICY_DIR).special_ops.gas
T0 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)


def bad(reading: GasReading, *, enriched: bool = False) -> bool:
    return bool(gas_problems(reading, LIMITS, oxygen_enriched=enriched))


@pytest.mark.parametrize(
    ("o2", "enriched", "alarm"),
    [
        (19.4, False, True),
        (19.5, False, False),
        (21.0, False, False),
        (21.1, False, True),
        (23.5, False, True),
        (21.1, True, False),
        (23.5, True, False),
        (23.6, True, True),
        (19.4, True, True),
    ],
)
def test_oxygen_21_percent_unless_the_permit_records_oxygen_enrichment(
    o2: float, enriched: bool, alarm: bool
) -> None:
    assert bad(GasReading(T0, o2_pct=o2), enriched=enriched) is alarm


@pytest.mark.parametrize(
    ("vol", "gas", "lel", "alarm"),
    [
        (0.5, "CH4", None, False),
        (0.6, "CH4", None, True),
        (0.5, None, 5.0, False),
        (0.6, None, 5.0, True),
        (0.5, "H2", None, False),  # LEL 4.0 % is "≥ 4 %"
        (0.2, "propane", None, False),
        (0.3, "丙烷", None, True),
        (0.2, None, 3.9, False),
        (0.21, None, 3.9, True),
        (0.2, None, None, False),  # LEL unknown: held to the stricter 0.2 %
        (0.3, None, None, True),
        (0.3, "unknown-gas", None, True),
    ],
)
def test_combustibles_judged_by_volume(
    vol: float, gas: str | None, lel: float | None, alarm: bool
) -> None:
    reading = GasReading(T0, combustible_vol_pct=vol, gas=gas, lel_vol_pct=lel)
    assert bad(reading) is alarm


@pytest.mark.parametrize(
    ("pct_lel", "gas", "alarm"),
    [
        (10.0, "CH4", False),  # 10 % of 5 % = 0.5 % vol
        (10.1, "CH4", True),
        (10.0, "NH3", True),  # 10 % of 15 % = 1.5 % vol, three times the limit
        (3.3, "氨", False),  # 0.495 % vol
        (3.4, "ammonia", True),  # 0.51 % vol
        (9.0, "C3H8", False),  # 0.189 % vol with LEL 2.1 % (< 4 % → 0.2 %)
        (10.0, "C3H8", True),  # 0.21 % vol
    ],
)
def test_lel_percent_is_converted_with_the_gas_lel(pct_lel: float, gas: str, alarm: bool) -> None:
    assert bad(GasReading(T0, lel_pct=pct_lel, gas=gas)) is alarm


def test_lel_percent_without_a_known_gas_cannot_pass() -> None:
    assert bad(GasReading(T0, lel_pct=0.0))
    assert bad(GasReading(T0, lel_pct=0.0, gas="不明气体"))
    assert not bad(GasReading(T0, lel_pct=5.0, gas="不明气体", lel_vol_pct=6.0))


def test_reported_lel_and_table_lel_both_must_pass() -> None:
    # A site reporting methane with LEL 3 % is judged under both 5 % (table) and 3 % (reported).
    assert bad(GasReading(T0, combustible_vol_pct=0.3, gas="CH4", lel_vol_pct=3.0))


@pytest.mark.parametrize(
    ("gas", "ok_ppm", "bad_ppm"),
    [
        ("H2S", 7.0, 7.1),  # MAC 10 mg/m³ → 7.053 ppm
        ("CO", 17.1, 17.2),  # PC-TWA 20 mg/m³ → 17.165 ppm (never the PC-STEL 30)
        ("NH3", 28.2, 28.3),  # PC-TWA 20 mg/m³ → 28.232 ppm
        ("氯气", 0.33, 0.34),  # MAC 1 mg/m³ → 0.339 ppm
        ("SO2", 1.87, 1.88),  # PC-TWA 5 mg/m³ → 1.876 ppm
        ("苯", 0.92, 0.93),  # PC-TWA 3 mg/m³ → 0.923 ppm
        ("hcn", 0.88, 0.89),  # MAC 1 mg/m³ → 0.889 ppm
    ],
)
def test_toxic_limits_mac_else_pc_twa(gas: str, ok_ppm: float, bad_ppm: float) -> None:
    assert not bad(GasReading(T0, toxic_ppm={gas: ok_ppm}))
    assert bad(GasReading(T0, toxic_ppm={gas: bad_ppm}))


def test_unknown_toxic_gas_cannot_be_judged() -> None:
    problems = gas_problems(GasReading(T0, toxic_ppm={"XYZ": 0.1}), LIMITS)
    assert problems
    assert "无法判定" in render(problems[0])


def test_is_acceptable() -> None:
    assert is_acceptable(GasReading(T0, o2_pct=20.9), LIMITS)
    assert not is_acceptable(None, LIMITS)


def _event(**fields: object) -> object:
    body = {"event_id": "g1", "ts": "2026-03-03T10:00:00+08:00", "type": "gas_test", "op_id": "o1"}
    return EVENT_ADAPTER.validate_python({**body, **fields})


def test_edge_refuses_lel_percent_without_gas_or_lel() -> None:
    with pytest.raises(ValidationError, match="gas"):
        _event(lel_pct=5.0)
    assert _event(lel_pct=5.0, gas="NH3") is not None
    assert _event(lel_pct=5.0, lel_vol_pct=15.0) is not None
