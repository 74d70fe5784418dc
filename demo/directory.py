"""Demo officers, experts, inspection items and a joint monthly plan, deterministic from a seed."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from demo.data import demo_counties, demo_enterprises
from domain.directory import (
    Conflict,
    EnterpriseCode,
    InspectionItem,
    InspectionMethod,
    ItemId,
    Officer,
    OfficerId,
)

#: The two departments of the joint plan, the lead one first (its officers lead the teams).
SAFETY_DEPT = "昌吉州应急管理综合行政执法支队"
FIRE_DEPT = "昌吉州消防救援支队"
EXPERT_DEPT = "安全生产专家库"
DEPARTMENTS = (SAFETY_DEPT, FIRE_DEPT)
#: Officer counts per department and the number of experts.
SAFETY_OFFICERS = 22
FIRE_OFFICERS = 18
EXPERTS = 6
DEMO_PLAN_ID = "CJ-JOINT-MONTHLY"

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国志红玉兰文斌浩宇晨博阳鑫婷雪琳凯峰"
CONFLICT_REASONS = (
    "配偶在该企业担任安全管理人员",
    "近三年曾在该企业任职（行政处罚法第四十三条回避）",
    "近亲属持有该企业股份",
    "曾为该企业提供安全评价咨询服务",
    "本人兄弟姐妹在该企业担任主要负责人",
)


def _names(rng: random.Random, count: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        name = rng.choice(SURNAMES) + given
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def demo_officers(
    *, as_of: date, seed: int = 2026, enterprise_codes: Sequence[str] | None = None
) -> list[Officer]:
    """~40 officers of two departments and 6 experts; certificate dates relative to `as_of`.

    `as_of` is the first day of the period the demo draws: a few officers are inactive, hold an
    expired certificate, one expiring mid-period, one not valid until next month, or none yet,
    and a few declared conflicts with demo enterprises, so every exclusion is visible in a draw.
    """
    rng = random.Random(seed)
    codes = (
        list(enterprise_codes)
        if enterprise_codes is not None
        else [e.credit_code for e in demo_enterprises()]
    )
    counties = demo_counties()
    people = [("YJ", SAFETY_DEPT, i) for i in range(1, SAFETY_OFFICERS + 1)]
    people += [("XF", FIRE_DEPT, i) for i in range(1, FIRE_OFFICERS + 1)]
    names = _names(rng, len(people) + EXPERTS)
    year = as_of.year
    # Special cases by officer id, so each exclusion reason appears at least once.
    inactive = {"YJ007": "调离", "XF011": "退休"}
    expired = {"YJ013", "XF004"}
    expiring = {"YJ019"}
    not_yet = {"XF016"}
    uncertified = {"YJ022"}
    conflicted = ["YJ003", "YJ010", "XF002", "XF009", "YJ016"]
    out: list[Officer] = []
    for (prefix, dept, n), name in zip(people, names, strict=False):
        oid = OfficerId(f"{prefix}{n:03d}")
        division, county = counties[rng.randrange(len(counties))]
        issued = year - rng.randint(1, 4)
        valid_from: date | None = date(issued, rng.randint(1, 12), 1)
        valid_to: date | None = date(issued + 6, 12, 31)
        cert = f"{division}{issued % 100:02d}{1 if prefix == 'YJ' else 2}{n:04d}"
        if oid in expired:
            valid_to = date(year - 1, 12, 31)
            valid_from = date(year - 7, 1, 1)
        elif oid in expiring:
            valid_to = as_of + timedelta(days=14)
        elif oid in not_yet:
            valid_from = _next_month(as_of)
            valid_to = date(valid_from.year + 6, 12, 31)
            cert = f"{division}{valid_from.year % 100:02d}2{n:04d}"
        elif oid in uncertified:
            cert, valid_from, valid_to = "", None, None
        conflicts: tuple[Conflict, ...] = ()
        if oid in conflicted:
            k = conflicted.index(oid)
            code = codes[(k * 23 + 5) % len(codes)]
            conflicts = (Conflict(oid, EnterpriseCode(code), CONFLICT_REASONS[k]),)
        out.append(
            Officer(
                officer_id=oid,
                name=name,
                department=dept,
                county=county,
                certificate_no=cert,
                certificate_valid_from=valid_from,
                certificate_valid_to=valid_to,
                active=oid not in inactive,
                conflicts=conflicts,
            )
        )
    for k in range(EXPERTS):
        oid = OfficerId(f"ZJ{k + 1:02d}")
        out.append(
            Officer(
                officer_id=oid,
                name=names[len(people) + k],
                department=EXPERT_DEPT,
                county=counties[(k * 5 + 1) % len(counties)][1],
                active=k != EXPERTS - 1,  # one expert has left the pool
                auxiliary=True,
            )
        )
    return out


HAZCHEM = ("coal_chemical", "hazchem_production", "hazchem_trade", "hazchem_storage")
_ITEMS: tuple[tuple[str, str, str, tuple[str, ...], InspectionMethod], ...] = (
    (
        "安全生产责任制落实",
        "主要负责人履行安全生产职责、全员安全生产责任制建立和考核",
        "《中华人民共和国安全生产法》第二十一条、第二十二条",
        ("*",),
        InspectionMethod.DOCUMENT,
    ),
    (
        "安全生产教育和培训",
        "从业人员安全教育培训及培训档案",
        "《中华人民共和国安全生产法》第二十八条",
        ("*",),
        InspectionMethod.DOCUMENT,
    ),
    (
        "特种作业人员持证上岗",
        "电工、焊工、危险化工工艺操作等特种作业人员资格",
        "《中华人民共和国安全生产法》第三十条",
        ("*",),
        InspectionMethod.ONSITE,
    ),
    (
        "安全风险分级管控和隐患排查治理",
        "双重预防机制建立运行、重大事故隐患治理",
        "《中华人民共和国安全生产法》第四十一条",
        ("*",),
        InspectionMethod.ONSITE,
    ),
    (
        "危险作业现场安全管理",
        "动火、临时用电、吊装等危险作业专人现场管理",
        "《中华人民共和国安全生产法》第四十三条",
        ("*",),
        InspectionMethod.ONSITE,
    ),
    (
        "劳动防护用品配备和使用",
        "符合国家标准或者行业标准的劳动防护用品",
        "《中华人民共和国安全生产法》第四十五条",
        ("*",),
        InspectionMethod.ONSITE,
    ),
    (
        "生产安全事故应急救援",
        "应急救援预案制定、备案和定期演练",
        "《中华人民共和国安全生产法》第八十一条；《生产安全事故应急条例》第五条、第八条",
        ("*",),
        InspectionMethod.DOCUMENT,
    ),
    (
        "消防安全职责落实",
        "消防设施、器材配置和维护保养，疏散通道、安全出口畅通",
        "《中华人民共和国消防法》第十六条",
        ("*",),
        InspectionMethod.ONSITE,
    ),
    (
        "危险化学品安全生产许可",
        "安全生产许可证取得及有效期、许可范围",
        "《危险化学品安全管理条例》第十四条；《安全生产许可证条例》第二条",
        ("hazchem_production",),
        InspectionMethod.DOCUMENT,
    ),
    (
        "危险化学品经营许可",
        "经营许可证取得、经营场所和储存设施条件",
        "《危险化学品安全管理条例》第三十三条、第三十四条",
        ("hazchem_trade",),
        InspectionMethod.DOCUMENT,
    ),
    (
        "危险化学品储存",
        "专用仓库、专人管理，剧毒化学品双人收发、双人保管",
        "《危险化学品安全管理条例》第二十四条",
        HAZCHEM,
        InspectionMethod.ONSITE,
    ),
    (
        "重大危险源管理",
        "重大危险源辨识、登记建档、监测监控和备案",
        "《中华人民共和国安全生产法》第四十条；《危险化学品重大危险源监督管理暂行规定》",
        # Power plants keep liquid ammonia for denitrification: a major hazard source too.
        (*HAZCHEM, "power"),
        InspectionMethod.ONLINE,
    ),
    (
        "特殊作业安全管理",
        "动火、受限空间、盲板抽堵等特殊作业的安全作业票和气体分析",
        "GB 30871-2022《危险化学品企业特殊作业安全规范》；《中华人民共和国安全生产法》第四十三条",
        ("coal_chemical", "hazchem_production", "hazchem_storage"),
        InspectionMethod.ONSITE,
    ),
    (
        "非煤矿山安全生产条件",
        "安全生产许可证、安全设施设计和竣工验收、提升运输与通风系统",
        "《安全生产许可证条例》第二条；GB 16423-2020《金属非金属矿山安全规程》",
        ("non_coal_mine",),
        InspectionMethod.ONSITE,
    ),
    (
        "重大危险源安全包保",
        "主要负责人、技术负责人、操作负责人包保责任落实，重大危险源监测监控与预警",
        "《危险化学品企业重大危险源安全包保责任制办法（试行）》（应急厅〔2021〕12号）",
        ("coal_chemical", "hazchem_production", "hazchem_storage"),
        InspectionMethod.ONSITE,
    ),
    (
        "粉尘防爆和有限空间作业",
        "粉尘爆炸危险场所除尘系统、有限空间作业审批",
        "《工贸企业粉尘防爆安全规定》（应急管理部令第6号）；"
        "《工贸企业有限空间作业安全规定》（应急管理部令第13号）",
        ("industry_trade",),
        InspectionMethod.ONSITE,
    ),
    (
        "安全设备和安全警示标志",
        "安全设备的维护、保养和定期检测，较大危险因素场所和设施设备的安全警示标志",
        "《中华人民共和国安全生产法》第三十五条、第三十六条",
        ("*",),
        InspectionMethod.ONSITE,
    ),
)


#: Which checklist-catalogue entries (config/checklist_catalogue.yaml) a finding on each demo item
#: cites; items without one (责任制、劳动防护、消防、许可、非煤矿山) have no catalogue entry yet.
_CHECKLIST: dict[str, tuple[str, ...]] = {
    "AQ-02": ("SP-TRAIN-01",),
    "AQ-03": ("SP-CERT-01",),
    "AQ-04": ("SP-RISK-01", "SP-HAZARD-01", "HC-MAJOR-01", "GM-MAJOR-01"),
    "AQ-05": ("SO-PERMIT-01",),
    "AQ-07": ("SP-PLAN-01",),
    "AQ-11": ("HC-STORE-01",),
    "AQ-12": ("HC-MHI-01",),
    "AQ-13": ("SO-PERMIT-01",),
    "AQ-15": ("HC-MHI-01",),
    "AQ-16": ("GM-MAJOR-01",),
    "AQ-17": ("SP-SIGN-01", "SP-EQUIP-01"),
}


def demo_items() -> list[InspectionItem]:
    """The demo inspection-item list (抽查事项清单): 17 items with their legal bases and the
    checklist-catalogue entries a finding on them cites."""
    return [
        InspectionItem(ItemId(code), item, sub, basis, sectors, method, _CHECKLIST.get(code, ()))
        for code, (item, sub, basis, sectors, method) in (
            (f"AQ-{i + 1:02d}", row) for i, row in enumerate(_ITEMS)
        )
    ]


def demo_plan_spec(
    *, timezone: str = "Asia/Shanghai", enterprise_codes: Sequence[str] | None = None
) -> dict[str, Any]:
    """The demo plan as plan.yaml fields: joint, monthly on the 1st at 09:00, policy defaults.

    Strata, caps and the shutdown policy come from the sampling policy; the plan sets the two
    departments (one officer each), one expert per team, the own-county rule, and excludes one
    enterprise by name so a plan exclusion shows in the draw.
    """
    codes = (
        list(enterprise_codes)
        if enterprise_codes is not None
        else [e.credit_code for e in demo_enterprises()]
    )
    return {
        "plan_id": DEMO_PLAN_ID,
        "title": "危险化学品和工贸企业安全生产联合“双随机、一公开”抽查（按月）",
        "team": {"size": 2, "departments": list(DEPARTMENTS), "quotas": [1, 1], "experts": 1},
        "own_county_rule": True,
        "exclusions": {
            "enterprises": [
                {
                    "code": codes[-1],
                    "reason": "under_investigation",
                    "note": "已立案调查，由执法支队另行检查",
                }
            ]
        },
        "schedule": {
            "cron": "0 9 1 * *",
            "timezone": timezone,
            "window_days": 28,
            "period_format": "%Y-%m",
            "public_value": "none",
        },
    }
