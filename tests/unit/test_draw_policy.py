"""The sampling policy file and plan files load strictly, with defaults and cited sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.policy_sampling import DEFAULT_POLICY_PATH, load_sampling_policy, parse_plan_file
from domain.errors import ConfigurationError, ValidationFailed
from domain.plan import DrawMode, ShutdownPolicy

PLAN = """
plan_id: HZ-2025-03
title: 2025年3月危化品双随机抽查
period: {label: "2025-03", start: 2025-03-01, end: 2025-03-31}
scope: {counties: ["330102"], sectors: [危化品经营]}
team: {departments: [应急管理局, 市场监管局]}
exclusions:
  enterprises: [{code: "91330102000000001X", reason: under_investigation, note: 正在立案调查}]
schedule: {cron: "0 9 1 * *"}
"""


def test_default_policy_loads_and_cites_its_sources() -> None:
    policy = load_sampling_policy()
    numbers = {s.number for s in policy.sources}
    assert {"国发〔2019〕5号", "国办发〔2024〕54号", "第四十二条"} <= numbers
    assert policy.defaults.team_size.value >= 2
    assert all(s.sources for s in policy.strata)
    assert len(policy.default_strata()) == 16


def test_policy_refuses_unknown_keys_and_bad_values(tmp_path: Path) -> None:
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    bad = tmp_path / "p.yaml"
    bad.write_text(text.replace("version: 1", "version: 1\nsurprise: true"), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="surprise"):
        load_sampling_policy(bad)
    bad.write_text(text.replace('ratio: "0.15"', 'ratio: "1.5"'), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="须在0到1之间"):
        load_sampling_policy(bad)
    bad.write_text(text.replace("sources: [gf-2019-5]", "sources: [nowhere]", 1), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="nowhere"):
        load_sampling_policy(bad)
    bad.write_text(text.replace('ratio: "0.15"', "ratio: 0.15"), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="quoted decimal"):
        load_sampling_policy(bad)


def test_plan_file_takes_defaults_from_the_policy() -> None:
    policy = load_sampling_policy()
    plan, label = parse_plan_file(PLAN, policy)
    assert label == "2025-03"
    r = plan.rules
    assert r.team.size == 2
    assert r.team.quotas == (1, 1)
    assert r.yearly_cap == policy.defaults.yearly_cap.value
    assert r.mode is DrawMode.RANDOM
    assert r.shutdown_policy is ShutdownPolicy.EXCLUDE
    assert r.strata == policy.default_strata()
    assert r.excluded == (("91330102000000001X", "under_investigation"),)
    assert plan.schedule is not None
    assert plan.schedule.timezone == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("team: {departments: [应急管理局], size: 1}", "greater than or equal to 2"),
        (
            "team: {departments: [应急管理局, 市场监管局], size: 2, quotas: [2, 1]}",
            "名额之和须等于检查组人数",
        ),
        ("team: {departments: [应急管理局]}\nwhatever: 1", "whatever"),
    ],
)
def test_plan_file_problems_are_named(change: str, message: str) -> None:
    text = PLAN.replace("team: {departments: [应急管理局, 市场监管局]}", change)
    with pytest.raises(ValidationFailed, match=message):
        parse_plan_file(text, load_sampling_policy())
