"""config/hazard_criteria.yaml covers every clause of both 重大事故隐患判定标准, each criterion
cites its clause, and what could not be read is declared missing, never silently absent.

The expected clause ids come from the texts found (see the file's header for the copies):
安监总管三〔2017〕121号 lists items （一）–（二十）; 应急管理部令第10号 has 64 items in
第三条–第十三条 (管理类 3, 行业类 47 in 第四条–第十条, 专项类 14 in 第十一条–第十三条), of which
第三条 has three, 第六条 eight and 第十二条 two items (the next article follows them in the texts
read)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from config.policy import load_policies
from config.policy_hazards import HazardCriteria, clause_key, cn_number
from config.settings import DEFAULT_POLICY_DIR

HAZARDS = load_policies(DEFAULT_POLICY_DIR).hazards
ITEMS = "一 二 三 四 五 六 七 八 九 十 十一 十二 十三 十四 十五 十六 十七 十八 十九 二十".split()
HC121_CLAUSES = [f"（{n}）" for n in ITEMS]
#: 10号令: the articles with criteria, and the item count where the text shows the article's end.
GM10_ARTICLES = ["三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三"]
GM10_KNOWN_COUNTS = {"三": 3, "六": 8, "十二": 2}
GM10_TOTAL, GM10_SECTOR, GM10_SPECIAL = 64, 47, 14
#: Characters of the traditional script that a conversion slip would leave in the simplified text.
TRADITIONAL = re.compile("[設裝監報鋼爐應當聯鎖區場與儲煉壓體這態屬內澆溫險項條]")


def _standard(standard_id: str) -> dict[str, Any]:
    """The standard as written in the file (clauses as given, gaps with their `from`)."""
    std = {s.id: s for s in HAZARDS.standards}[standard_id]
    return std.model_dump(by_alias=True)


def test_the_121_standard_is_complete() -> None:
    std = _standard("hazchem-2017-121")
    assert [c["clause"] for c in std["criteria"]] == HC121_CLAUSES
    assert std["missing"] == []
    for n, c in enumerate(std["criteria"], start=1):
        assert c["code"] == f"HC121-{n:02d}", c  # the code names the clause it cites


def test_the_10_order_is_covered_or_declared_missing_article_by_article() -> None:
    std = _standard("gm-2023-10")
    criteria = std["criteria"]
    missing = {clause_key(m["from"])[0]: clause_key(m["from"])[1] for m in std["missing"]}
    listed: dict[int, list[int]] = {}
    for c in criteria:
        article, item = clause_key(c["clause"])
        assert c["code"] == f"GM10-{article}-{item}", c  # the code names the clause it cites
        listed.setdefault(article, []).append(item)
    articles = [cn_number(a) for a in GM10_ARTICLES]
    assert set(listed) | set(missing) == set(articles)
    for name in GM10_ARTICLES:
        article = cn_number(name)
        items = listed.get(article, [])
        assert items == list(range(1, len(items) + 1)), f"第{name}条 skips an item: {items}"
        if name in GM10_KNOWN_COUNTS:
            assert len(items) == GM10_KNOWN_COUNTS[name], name
            assert article not in missing, name
        else:
            # Not all read: the first item not listed is where the declared gap starts.
            assert missing.get(article) == (len(items) + 1 if items else 0), f"第{name}条"
    total = sum(len(v) for v in listed.values())
    sector = sum(len(listed.get(a, [])) for a in range(4, 11))
    special = sum(len(listed.get(a, [])) for a in range(11, 14))
    assert len(listed[3]) + GM10_SECTOR + GM10_SPECIAL == GM10_TOTAL
    assert sector <= GM10_SECTOR
    assert special <= GM10_SPECIAL
    assert total <= GM10_TOTAL


@pytest.mark.parametrize("sector", ["hazchem_production", "industry_trade"])
def test_each_criterion_quotes_text_and_cites_its_clause(sector: str) -> None:
    standard = HAZARDS.for_sector(sector)
    assert standard is not None
    assert standard.version == 2
    for code, c in standard.criteria.items():
        assert c.code == code
        assert clause_key(c.clause)[1] >= 1
        assert len(c.text) >= 6
        assert not c.text.endswith(("；", "。", ";", "."))
        assert not TRADITIONAL.search(c.text), (code, TRADITIONAL.findall(c.text))
        assert not re.search(r"[(),;]", c.text), code  # full-width punctuation


def test_a_criterion_inside_a_declared_gap_is_refused() -> None:
    data = {
        "version": 2,
        "standards": [
            {
                "id": "x-1",
                "title": "测试标准",
                "source": "测试来源",
                "sectors": ["s"],
                "criteria": [
                    {"code": "X-5-2", "clause": "第五条（二）", "text": "测试判定情形的文本"}
                ],
                "missing": [{"from": "第五条", "reason": "未找到文本"}],
            }
        ],
    }
    with pytest.raises(ValueError, match="declared missing"):
        HazardCriteria.model_validate(data)
    data["standards"][0]["criteria"][0]["clause"] = "第五条"  # type: ignore[index]
    with pytest.raises(ValueError, match="cites an item"):
        HazardCriteria.model_validate(data)
