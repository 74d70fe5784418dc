"""Topic and payload checks of the ingest, and the policy loader's refusals."""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.policy_monitoring import load_monitoring_policy
from config.settings import DEFAULT_POLICY_DIR
from domain.credit_code import make_credit_code
from domain.errors import ConfigurationError
from monitor.parse import Accepted, Ignored, Inbound, Limits, Refused, check
from monitor.schemas import SpecialOpStartEvent
from monitor.topics import RejectCode, TopicOk, TopicRefused, Topics, Uplink

TOPICS = Topics("safewatch/v1")
ENT = make_credit_code("330102", 7)
LIMITS = Limits(256 * 1024, timedelta(seconds=300))
NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def msg(topic: str, payload: object) -> Inbound:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Inbound(topic, data, 1, 1, False, 1, time.time())


def code_of(topic: str, payload: object) -> RejectCode | None:
    r = check(msg(topic, payload), TOPICS, LIMITS, NOW)
    return r.code if isinstance(r, Refused) else None


def ev(**kw: object) -> dict[str, object]:
    return {
        "event_id": "e-1",
        "ts": "2026-03-01T15:59:00+08:00",
        "type": "shutdown",
        "scope": "plant",
        "reason": "r",
        **kw,
    }


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("other/v1/ent/X/event", RejectCode.TOPIC_INVALID),
        ("safewatch/v1/ent/event", RejectCode.TOPIC_INVALID),
        (f"safewatch/v1/ent/{ENT}/event/extra", RejectCode.TOPIC_INVALID),
        (f"safewatch/v1/ent/{ENT.lower()}/event", RejectCode.CREDIT_CODE_INVALID),
        (f"safewatch/v1/ent/{ENT[:-1]}Z/event", RejectCode.CREDIT_CODE_INVALID),
        (f"safewatch/v1/ent/{ENT}/status", RejectCode.TOPIC_UNKNOWN),
    ],
)
def test_topic_refusals(topic: str, expected: RejectCode) -> None:
    result = TOPICS.parse(topic)
    assert isinstance(result, TopicRefused)
    assert result.code is expected


def test_topics_ok_and_own_downlinks_ignored() -> None:
    assert TOPICS.parse(TOPICS.uplink(ENT, "telemetry")) == TopicOk(ENT, Uplink.TELEMETRY)
    assert isinstance(
        check(msg(f"safewatch/v1/ent/{ENT}/reject", {}), TOPICS, LIMITS, NOW), Ignored
    )
    assert TOPICS.subscription("g1") == "$share/g1/safewatch/v1/ent/+/+"


E = f"safewatch/v1/ent/{ENT}/event"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (ev(), None),
        (ev(ts="2026-03-01T07:59:00Z"), None),
        (ev(ts="2026-03-01 15:59:00.123456+08:00"), None),
        (ev(ts="2026-03-01T15:59:00"), RejectCode.TIMESTAMP_INVALID),
        (ev(ts=1767000000), RejectCode.TIMESTAMP_INVALID),
        (ev(ts="1999-12-31T23:59:59Z"), RejectCode.TIMESTAMP_INVALID),
        (ev(ts="2026-02-30T00:00:00Z"), RejectCode.TIMESTAMP_INVALID),
        (ev(ts="2026-03-01T08:05:01Z"), RejectCode.TIMESTAMP_FUTURE),
        (ev(ts="2026-03-01T08:04:59Z"), None),
        (ev(event_id="bad id!"), RejectCode.SCHEMA_INVALID),
        (ev(event_id="x" * 65), RejectCode.SCHEMA_INVALID),
        (ev(type="launch"), RejectCode.SCHEMA_INVALID),
        (ev(scope="unit"), RejectCode.SCHEMA_INVALID),
        (ev(reason=5), RejectCode.SCHEMA_INVALID),
        ([1, 2], RejectCode.SCHEMA_INVALID),
        (b"\xff", RejectCode.JSON_INVALID),
        (b"{", RejectCode.JSON_INVALID),
        (b'{"event_id": "a\\u0000"}', RejectCode.JSON_INVALID),
        (b"{" + b" " * (256 * 1024) + b"}", RejectCode.PAYLOAD_TOO_LARGE),
    ],
)
def test_event_checks(payload: object, expected: RejectCode | None) -> None:
    assert code_of(E, payload) is expected


def start(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "type": "special_op_start",
        "op_id": "o1",
        "op_type": "hot_work",
        "grade": "1",
        "permit_no": "P",
        "valid_from": "2026-03-01T07:00:00Z",
        "valid_to": "2026-03-01T09:00:00Z",
        "location": "L",
        "guardian": "G",
    }
    return ev(**{**base, **kw})


def test_special_op_start_checks() -> None:
    r = check(msg(E, start()), TOPICS, LIMITS, NOW)
    assert isinstance(r, Accepted)
    assert isinstance(r.body, SpecialOpStartEvent)
    assert code_of(E, start(grade="IV")) is RejectCode.SCHEMA_INVALID
    assert code_of(E, start(valid_to="2026-03-01T06:00:00Z")) is RejectCode.SCHEMA_INVALID
    assert code_of(E, start(gas_test={})) is RejectCode.SCHEMA_INVALID
    assert code_of(E, start(gas_test={"o2_pct": 120})) is RejectCode.SCHEMA_INVALID
    assert code_of(E, start(guardian=None)) is None
    assert code_of(E, start(op_type="diving")) is RejectCode.SCHEMA_INVALID


def test_refused_event_keeps_its_ref() -> None:
    r = check(msg(E, ev(ts="2026-03-01T15:59:00")), TOPICS, LIMITS, NOW)
    assert isinstance(r, Refused)
    assert r.ref == "e-1"
    assert r.enterprise_id == ENT


T = f"safewatch/v1/ent/{ENT}/telemetry"


def test_telemetry_checks() -> None:
    point = {"tag": "V101.LT", "value": 3.21}
    assert code_of(T, {"ts": "2026-03-01T08:00:00Z", "points": [point] * 1000}) is None
    assert (
        code_of(T, {"ts": "2026-03-01T08:00:00Z", "points": [point] * 1001})
        is RejectCode.SCHEMA_INVALID
    )
    assert (
        code_of(T, {"ts": "2026-03-01T08:00:00Z", "points": [{"tag": "a b", "value": 1}]})
        is RejectCode.SCHEMA_INVALID
    )
    assert (
        code_of(T, {"ts": "2026-03-01T08:00:00Z", "points": [{"tag": "a", "value": "1"}]})
        is RejectCode.SCHEMA_INVALID
    )
    assert (
        code_of(T, b'{"ts": "2026-03-01T08:00:00Z", "points": [{"tag": "a", "value": NaN}]}')
        is RejectCode.SCHEMA_INVALID
    )
    future_point = {"tag": "a", "value": 1, "ts": "2026-03-02T08:00:00Z"}
    assert (
        code_of(T, {"ts": "2026-03-01T08:00:00Z", "points": [future_point]})
        is RejectCode.TIMESTAMP_FUTURE
    )


def test_commitment_presence_ack_checks() -> None:
    c = {
        "date": "2026-03-01",
        "units": {"total": 3, "running": 2, "stopped": 1},
        "risk_level": 2,
        "committed_by": "张三",
        "committed_at": "2026-03-01T07:30:00+08:00",
        "special_ops": [{"op_type": "hot_work", "grade": "1", "count": 2}],
    }
    topic = f"safewatch/v1/ent/{ENT}/commitment"
    assert code_of(topic, c) is None
    assert (
        code_of(topic, {**c, "units": {"total": 3, "running": 3, "stopped": 1}})
        is RejectCode.SCHEMA_INVALID
    )
    assert code_of(topic, {**c, "risk_level": 5}) is RejectCode.SCHEMA_INVALID
    assert code_of(f"safewatch/v1/ent/{ENT}/presence", {"online": False}) is None
    assert (
        code_of(f"safewatch/v1/ent/{ENT}/ack", {"ref": "G1", "ts": "2026-03-01T08:00:00Z"}) is None
    )
    assert code_of(f"safewatch/v1/ent/{ENT}/ack", {"ref": "G1"}) is RejectCode.SCHEMA_INVALID


def test_policy_loader_refuses_bad_files(tmp_path: Path) -> None:
    for name in ("special_operations.yaml", "alarm_rules.yaml", "monitoring.yaml", "holidays.yaml"):
        shutil.copy(DEFAULT_POLICY_DIR / name, tmp_path / name)
    load_monitoring_policy(tmp_path)
    rules = tmp_path / "alarm_rules.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("ack_within_min: 15", "ack_whithin_min: 15", 1),
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError, match=r"alarm_rules\.yaml"):
        load_monitoring_policy(tmp_path)
    shutil.copy(DEFAULT_POLICY_DIR / "alarm_rules.yaml", rules)
    ops = tmp_path / "special_operations.yaml"
    ops.write_text(
        ops.read_text(encoding="utf-8").replace(
            '{special: 8, "1": 8, "2": 72}', '{special: 8, "1": 8, "9": 72}'
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError, match="unknown grade"):
        load_monitoring_policy(tmp_path)
    shutil.copy(DEFAULT_POLICY_DIR / "special_operations.yaml", ops)
    (tmp_path / "monitoring.yaml").write_text("version: 1\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"monitoring\.yaml"):
        load_monitoring_policy(tmp_path)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        # Offsets PostgreSQL would refuse (±15:59 is its limit) or store as year 10000.
        (ev(ts="2026-03-01T15:59:00+14:00"), None),
        (ev(ts="2026-03-01T15:59:00-12:00"), RejectCode.TIMESTAMP_FUTURE),
        (ev(ts="2026-03-01T15:59:00+14:01"), RejectCode.TIMESTAMP_INVALID),
        (ev(ts="2026-03-01T15:59:00+23:00"), RejectCode.TIMESTAMP_INVALID),
        (ev(ts="2026-03-01T15:59:00-23:59"), RejectCode.TIMESTAMP_INVALID),
        (ev(ts="2026-03-01T15:59:00+05:60"), RejectCode.TIMESTAMP_INVALID),
        (ev(ts="9999-12-31T23:59:59-23:59"), RejectCode.TIMESTAMP_INVALID),
        (ev(planned_resume="2026-03-01T15:59:00+16:00"), RejectCode.TIMESTAMP_INVALID),
        # Planned times within the horizon of the event's own time.
        (ev(planned_resume="2027-03-01T00:00:00Z"), None),
        (ev(planned_resume="2028-03-01T00:00:00Z"), RejectCode.TIMESTAMP_OUT_OF_RANGE),
        (ev(planned_resume="9999-12-31T23:59:59Z"), RejectCode.TIMESTAMP_OUT_OF_RANGE),
        (
            ev(type="trial_start", trial_id="t", planned_end="9999-12-31T00:00:00Z"),
            RejectCode.TIMESTAMP_OUT_OF_RANGE,
        ),
        (
            ev(type="maintenance_start", maint_id="m", scope="plant", planned_end="2001-01-01Z"),
            RejectCode.TIMESTAMP_INVALID,
        ),
        (
            ev(
                type="maintenance_start",
                maint_id="m",
                scope="plant",
                planned_end="2001-01-01T00:00:00Z",
            ),
            RejectCode.TIMESTAMP_OUT_OF_RANGE,
        ),
        (
            ev(
                type="resume_request",
                planned_at="2099-01-01T00:00:00Z",
                self_check=[{"item": "a", "ok": True}],
            ),
            RejectCode.TIMESTAMP_OUT_OF_RANGE,
        ),
    ],
)
def test_offsets_and_planning_horizon(payload: object, expected: RejectCode | None) -> None:
    assert code_of(E, payload) is expected


def test_permit_window_is_range_checked() -> None:
    # The probe: stored, it broke the permit check for every enterprise.
    assert code_of(E, start(valid_to="9999-12-31T23:59:59-23:59")) is RejectCode.TIMESTAMP_INVALID
    r = check(msg(E, start(valid_to="9999-12-31T23:59:59Z")), TOPICS, LIMITS, NOW)
    assert isinstance(r, Refused)
    assert r.code is RejectCode.TIMESTAMP_OUT_OF_RANGE
    assert "valid_to" in r.reason
    assert r.ref == "e-1"
    # Longer than hot work allows (8 h) is stored and alarmed (permit_too_long); longer than any
    # type allows (31 d) is refused.
    assert code_of(E, start(valid_to="2026-03-10T07:00:00Z")) is None
    r = check(msg(E, start(valid_to="2026-04-10T07:00:00Z")), TOPICS, LIMITS, NOW)
    assert isinstance(r, Refused)
    assert r.code is RejectCode.TIMESTAMP_OUT_OF_RANGE
    assert "31 days" in r.reason


def test_telemetry_values_bounded() -> None:
    def tel(value: float) -> dict[str, object]:
        return {
            "ts": "2026-03-01T08:00:00Z",
            "points": [{"tag": "ok", "value": 1.0}, {"tag": "V1", "value": value}],
        }

    assert code_of(T, tel(1e12)) is None
    assert code_of(T, tel(-1e12)) is None
    r = check(msg(T, tel(1.7e308)), TOPICS, LIMITS, NOW)
    assert isinstance(r, Refused)
    assert r.code is RejectCode.VALUE_OUT_OF_RANGE
    assert "points.1.value" in r.reason
    assert "V1" in r.reason
    assert code_of(T, tel(-1.000001e12)) is RejectCode.VALUE_OUT_OF_RANGE
