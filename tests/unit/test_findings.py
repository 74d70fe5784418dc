"""清单式执法: the basis is one of the item's articles (free text only with a reason, flagged),
cause and measure are real sentences, 重大事故隐患 is graded against the sector's criteria."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from config.policy import load_policies
from config.settings import DEFAULT_POLICY_DIR
from demo.directory import demo_items
from domain.enforcement import Severity
from domain.errors import ValidationFailed
from domain.findings import FindingInput, articles, basis_matches, listed_items, validate

POLICIES = load_policies(DEFAULT_POLICY_DIR)
CATALOGUE = POLICIES.catalogue.as_domain()
HAZCHEM = POLICIES.hazards.for_sector("hazchem_production")
TRADE = POLICIES.hazards.for_sector("industry_trade")
TODAY = date(2026, 12, 3)
GOOD = FindingInput(
    item_code="SP-TRAIN-01",
    legal_basis="《中华人民共和国安全生产法》第二十八条",
    cause="新入职员工3人未经三级安全教育即上岗作业",
    measure="组织补训并考核合格后上岗，建立培训档案",
    deadline=TODAY + timedelta(days=15),
    severity=Severity.MINOR,
)


def test_a_complete_finding_citing_the_items_article_is_accepted() -> None:
    accepted = validate(GOOD, catalogue=CATALOGUE, standard=HAZCHEM, today=TODAY)
    assert not accepted.basis_free_text
    assert accepted.item.penalty_basis == "安全生产法 第九十七条"
    assert accepted.hazard_criterion is None


def test_articles_are_read_from_the_catalogue() -> None:
    major = CATALOGUE["HC-MAJOR-01"]
    assert articles(major.legal_basis) == {"安全生产法第四十一条第二款", "安全生产法第一百一十八条"}
    assert basis_matches("安全生产法 第一百一十八条", major)
    assert not basis_matches("安全生产法 第一百零二条", major)


def test_another_basis_needs_a_reason_and_is_flagged() -> None:
    other = replace(GOOD, legal_basis="安全生产法 第四十四条")
    with pytest.raises(ValidationFailed) as info:
        validate(other, catalogue=CATALOGUE, standard=HAZCHEM, today=TODAY)
    assert "不是检查项SP-TRAIN-01的条款" in info.value.details["legal_basis"]
    reasoned = replace(other, basis_reason="该单位培训档案问题同时涉及教育培训制度规定")
    assert validate(reasoned, catalogue=CATALOGUE, standard=HAZCHEM, today=TODAY).basis_free_text


def test_short_or_missing_fields_are_refused_field_by_field_in_zh() -> None:
    bad = replace(GOOD, cause="没培训", measure=" ", deadline=None)
    with pytest.raises(ValidationFailed) as info:
        validate(bad, catalogue=CATALOGUE, standard=HAZCHEM, today=TODAY)
    details = info.value.details
    assert details["cause"] == "原因太短：至少8个字，请写成完整的一句话"
    assert details["measure"].startswith("必须填写整改措施")
    assert details["deadline"] == "必须填写整改期限（当场整改的除外）"
    assert "检查发现未被接受" in info.value.message


def test_a_major_hazard_cites_a_criterion_of_the_sectors_standard() -> None:
    major = replace(
        GOOD,
        item_code="HC-MAJOR-01",
        legal_basis="安全生产法 第一百一十八条",
        severity=Severity.MAJOR_HAZARD,
    )
    with pytest.raises(ValidationFailed) as info:
        validate(major, catalogue=CATALOGUE, standard=HAZCHEM, today=TODAY)
    assert "安监总管三〔2017〕121号" in info.value.details["hazard_criterion"]
    ok = validate(
        replace(major, hazard_criterion="HC121-12"),
        catalogue=CATALOGUE,
        standard=HAZCHEM,
        today=TODAY,
    )
    assert (ok.hazard_criterion, ok.hazard_standard) == ("HC121-12", "安监总管三〔2017〕121号 v2")
    # a 工贸 enterprise is graded against 应急管理部令第10号, not the 121号 list
    with pytest.raises(ValidationFailed, match="应急管理部令第10号"):
        validate(
            replace(major, hazard_criterion="HC121-12"),
            catalogue=CATALOGUE,
            standard=TRADE,
            today=TODAY,
        )
    free = replace(major, criterion_text="判定标准第（十五）项：安全阀未正常投用")
    graded = validate(free, catalogue=CATALOGUE, standard=HAZCHEM, today=TODAY)
    assert graded.hazard_criterion is not None
    assert graded.hazard_criterion.startswith("free:")
    assert graded.hazard_standard is None  # not a listed criterion: shown as free text
    with pytest.raises(ValidationFailed, match="本行业未配置重大事故隐患判定标准"):
        validate(major, catalogue=CATALOGUE, standard=None, today=TODAY)


def test_a_general_finding_cites_no_hazard_criterion() -> None:
    with pytest.raises(ValidationFailed, match="只有定为重大事故隐患"):
        validate(
            replace(GOOD, hazard_criterion="HC121-01"),
            catalogue=CATALOGUE,
            standard=HAZCHEM,
            today=TODAY,
        )


def test_the_hazard_file_names_its_sources() -> None:
    assert HAZCHEM is not None
    assert TRADE is not None
    assert HAZCHEM.source == "安监总管三〔2017〕121号"
    assert TRADE.source.startswith("应急管理部令第10号")
    assert POLICIES.hazards.for_sector("fireworks") is None


def test_a_drawn_inspection_takes_only_the_items_its_list_links_to() -> None:
    listed = listed_items("draw", ["SP-TRAIN-01", "SO-PERMIT-01", "SP-TRAIN-01"])
    assert listed == {"SP-TRAIN-01", "SO-PERMIT-01"}
    assert listed_items("draw", []) == frozenset()  # an empty list allows no item
    for source in ("targeted", "complaint", "follow_up"):  # made by hand: the whole catalogue
        assert listed_items(source, ["SP-TRAIN-01"]) is None
    assert validate(GOOD, catalogue=CATALOGUE, standard=HAZCHEM, today=TODAY, listed=listed)
    off_list = replace(GOOD, item_code="SP-CERT-01", legal_basis="安全生产法 第三十条")
    assert validate(off_list, catalogue=CATALOGUE, standard=HAZCHEM, today=TODAY, listed=None)
    with pytest.raises(ValidationFailed) as info:
        validate(off_list, catalogue=CATALOGUE, standard=HAZCHEM, today=TODAY, listed=listed)
    assert info.value.details["item_code"] == (
        "检查项SP-CERT-01不在本次双随机抽查的抽查事项清单内：抽中企业只检查清单所列事项，"
        "请从本次检查的清单中选择"
    )
    with pytest.raises(ValidationFailed) as unknown:  # not in the catalogue at all: said so
        validate(replace(GOOD, item_code="XX-1"), catalogue=CATALOGUE, standard=HAZCHEM,
                 today=TODAY, listed=listed)  # fmt: skip
    assert "不在检查清单目录中" in unknown.value.details["item_code"]


def test_the_demo_list_links_only_to_catalogue_entries() -> None:
    linked = {c for i in demo_items() for c in i.checklist_codes}
    assert linked
    assert linked <= set(CATALOGUE)
