"""GB 32100-2015 check character."""

from __future__ import annotations

import pytest

from domain.credit_code import credit_code_problem, make_credit_code, validate_credit_code
from domain.errors import ValidationFailed


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L"])
def test_published_codes_are_valid(code: str) -> None:
    assert credit_code_problem(code) is None


def test_generated_codes_are_valid_and_differ() -> None:
    codes = {make_credit_code("330102", n) for n in range(1000)}
    assert len(codes) == 1000
    assert all(credit_code_problem(c) is None for c in codes)


@pytest.mark.parametrize(
    ("code", "reason", "zh"),
    [
        ("91350100M000100Y44", "check character", "校验码为“4”，按GB 32100-2015应为“3”"),
        ("91350100M000100Y4", "18 characters", "应为18位，实际17位"),
        ("91350100m000100Y43", "upper case", "大写"),
        ("91350100M000100I43", "not allowed", "第16位的字符“I”不允许"),
        ("913501A0M000100Y43", "administrative division", "行政区划码"),
    ],
)
def test_bad_codes_say_why(code: str, reason: str, zh: str) -> None:
    problem = credit_code_problem(code)
    assert problem is not None
    assert reason in problem
    with pytest.raises(ValidationFailed, match=zh):
        validate_credit_code(code)
