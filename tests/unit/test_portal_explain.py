"""What a refused portal report needs fixed, named in zh-CN by its fields."""

from __future__ import annotations

from domain.i18n import render
from domain.portal import explain, fields_of


def test_a_refusal_names_the_fields_to_fix_in_zh_cn() -> None:
    assert fields_of("shutdown.reason: Field required") == ["reason"]
    assert fields_of("shutdown: Value error, scope 'unit' needs a non-empty units list") == [
        "scope",
        "units",
    ]
    text = render(explain("schema_invalid", "shutdown.reason: Field required"))
    assert text == "上报未被接受：有必填项未填写或填写有误，请检查这些栏目：原因"
