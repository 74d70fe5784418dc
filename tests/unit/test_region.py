"""The region is config: Changji by default, another bureau swaps the file; demo codes are valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.policy_region import DEFAULT_REGION_PATH, load_region
from demo.data import demo_enterprises
from domain.credit_code import org_check_character, org_code, validate_credit_code
from domain.errors import ConfigurationError

OTHER = """
version: 1
bureau: 伊犁哈萨克自治州应急管理局
bureau_short: 伊犁州应急管理局
prefecture: 伊犁哈萨克自治州
prefecture_short: 伊犁州
division: "654000"
province: 新疆维吾尔自治区
counties:
  - {name: 伊宁市, short: 伊宁, division: "654002", kind: city, streets: [斯大林街]}
  - {name: 霍城县, short: 霍城, division: "654023", kind: county, streets: [清水河路]}
sectors:
  - {code: industry_trade, name: 工贸, demo_share: 1.0, trades: [建材]}
"""


def test_default_region_is_changji() -> None:
    region = load_region(DEFAULT_REGION_PATH.parent)
    assert region.bureau == "昌吉回族自治州应急管理局"
    assert [c.name for c in region.counties][:7] == [
        "昌吉市",
        "阜康市",
        "呼图壁县",
        "玛纳斯县",
        "奇台县",
        "吉木萨尔县",
        "木垒哈萨克自治县",
    ]
    assert {c.name for c in region.counties if c.kind == "zone"} == {
        "准东经济技术开发区",
        "昌吉高新技术产业开发区",
        "昌吉国家农业科技园区",
    }
    assert all(c.division.startswith("6523") for c in region.counties)


def test_another_bureau_swaps_the_file(tmp_path: Path) -> None:
    (tmp_path / "region.yaml").write_text(OTHER, encoding="utf-8")
    region = load_region(tmp_path)
    rows = demo_enterprises(10, region=region)
    assert {r.county for r in rows} == {"伊宁市", "霍城县"}
    assert all(r.credit_code[2:8] in {"654002", "654023"} for r in rows)
    assert all(r.address.startswith("新疆维吾尔自治区伊犁哈萨克自治州") for r in rows)


def test_a_county_outside_the_prefecture_is_refused(tmp_path: Path) -> None:
    (tmp_path / "region.yaml").write_text(OTHER.replace('"654023"', '"652323"'), "utf-8")
    with pytest.raises(ConfigurationError, match="652323 is not in 654000"):
        load_region(tmp_path)


def test_demo_codes_carry_valid_check_characters() -> None:
    # By hand: 13·3 + 2·7 + 1·9 + 4·10 + 3·5 + 5·8 + 6·4 + 9·2 = 199; 11 − 199 mod 11 = 10 → X.
    assert org_check_character("D2143569") == "X"
    # 3 + 14 + 27 + 40 + 25 + 48 + 28 + 16 = 201; 11 − 201 mod 11 = 8.
    assert org_check_character("12345678") == "8"
    for serial in (0, 7919, 400_000_000, 887_503_680):
        code = org_code(serial)
        assert code.startswith("MA")
        assert org_check_character(code[:8]) == code[8]
    for row in demo_enterprises():
        assert validate_credit_code(row.credit_code) == row.credit_code
        assert org_check_character(row.credit_code[8:16]) == row.credit_code[16]
