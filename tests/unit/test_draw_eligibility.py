"""Every excluded enterprise and officer carries its reason; unstaffed enterprises say why."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from domain.directory import InspectionHistory
from domain.draw.eligibility import EXPERT_POOL, department_pool
from domain.plan import DrawMode, ShutdownPolicy, Stratum, TeamRule
from tests.unit.draw_support import DEPTS, enterprises, officers, rules, run


def _excluded(drawn) -> dict[str, list[str]]:
    elig = drawn.frozen.eligibility
    return {row[0]: row[1:] for row in elig.excluded_enterprises + elig.excluded_officers}


def test_enterprise_exclusions_carry_reason_and_detail() -> None:
    ents = enterprises(10)
    ents[0] = replace(ents[0], deregistered=True)
    ents[1] = replace(ents[1], county="330999")
    ents[2] = replace(ents[2], sector="烟花爆竹")
    ents[4] = replace(ents[4], operating_state="shutdown")
    history = {
        ents[5].credit_code: InspectionHistory(ents[5].credit_code, 2, date(2024, 6, 1)),
        ents[6].credit_code: InspectionHistory(ents[6].credit_code, 1, date(2025, 2, 1)),
        ents[7].credit_code: InspectionHistory(ents[7].credit_code, 1, date(2024, 11, 30)),
    }
    r = rules(
        counties=("330102", "330103"),
        sectors=("危化品经营",),
        excluded=((ents[3].credit_code, "under_investigation"),),
    )
    drawn = run(r, ents, history=history)
    ex = _excluded(drawn)
    assert ex[ents[0].credit_code] == ["deregistered", ""]
    assert ex[ents[1].credit_code] == ["out_of_scope_county", "330999"]
    assert ex[ents[2].credit_code] == ["out_of_scope_sector", "烟花爆竹"]
    assert ex[ents[3].credit_code] == ["excluded_by_plan", "under_investigation"]
    assert ex[ents[4].credit_code] == ["shutdown", "shutdown"]
    assert ex[ents[5].credit_code] == ["yearly_cap_reached", "2"]
    assert ex[ents[6].credit_code] == ["cooldown", "2025-02-01"]
    assert ents[7].credit_code not in ex  # 91 days before the period: outside the cooldown
    included = run(replace(r, shutdown_policy=ShutdownPolicy.INCLUDE), ents, history=history)
    assert ents[4].credit_code not in _excluded(included)


def test_fixed_list_and_no_stratum() -> None:
    ents = enterprises(6)
    fixed = rules(mode=DrawMode.FIXED, fixed_list=(ents[0].credit_code, ents[1].credit_code))
    drawn = run(fixed, ents)
    assert {c for c, _, _ in drawn.selected} == {ents[0].credit_code, ents[1].credit_code}
    assert _excluded(drawn)[ents[2].credit_code] == ["not_listed", ""]
    narrow = rules(strata=(rules().strata[0],))  # red only
    drawn = run(narrow, ents)
    assert _excluded(drawn)[ents[1].credit_code] == ["no_stratum", "危化品经营|blue|B"]


def test_officer_exclusions_and_pools() -> None:
    offs = officers(3)
    offs[0] = replace(offs[0], active=False)
    offs[1] = replace(offs[1], department="交通运输局")
    offs[2] = replace(offs[2], certificate_no="")
    offs[3] = replace(offs[3], certificate_valid_to=date(2025, 3, 30))
    offs[4] = replace(offs[4], certificate_valid_from=date(2025, 3, 2))
    offs[5] = replace(offs[5], auxiliary=True, certificate_no="")
    drawn = run(offs=offs)
    ex = _excluded(drawn)
    assert ex["O001"] == ["inactive", ""]
    assert ex["O002"] == ["department_not_in_plan", "交通运输局"]
    assert ex["O003"] == ["certificate_missing", ""]
    assert ex["O004"] == ["certificate_expires", "2025-03-30"]
    assert ex["O005"] == ["certificate_not_yet_valid", "2025-03-02"]
    assert ex["O006"] == ["expert_not_required", ""]
    with_experts = rules(team=TeamRule(2, DEPTS, (1, 1), experts=1))
    pools = run(with_experts, offs=offs).frozen.eligibility.pools
    assert [p.pool_id for p in pools] == [
        department_pool(DEPTS[0]),
        department_pool(DEPTS[1]),
        EXPERT_POOL,
    ]
    assert pools[2].members == [5]


def test_experts_never_count_as_officers_nor_lead() -> None:
    offs = officers(4)
    offs += [
        replace(o, officer_id=f"X{i}", auxiliary=True, certificate_no="", department="专家库")
        for i, o in enumerate(officers(2)[:2])
    ]
    drawn = run(rules(team=TeamRule(2, DEPTS, (1, 1), experts=1), workload_cap=10), offs=offs)
    assert drawn.teams
    for team in drawn.teams:
        assert all(o.startswith("O") for o in team.officers)
        assert team.leader.startswith("O")
        assert len(team.officers) == 2
        assert len(team.experts) == 1
        assert team.experts[0].startswith("X")


def test_unstaffed_enterprises_are_named_with_reasons() -> None:
    ents = enterprises(12)
    conflicted = {k: [ents[0].credit_code] for k in (1, 2, 3, 4)}  # every officer recuses
    everyone = rules(strata=(Stratum("*", "*", "*", "1"),), workload_cap=1, cooldown_days=0)
    drawn = run(everyone, ents, officers(2, conflicts=conflicted))
    assert drawn.result["status"] == "incomplete"
    assert len(drawn.selected) == 12
    assert len(drawn.teams) == 2
    reasons = {(u["enterprise"], u["pool"]): u for u in drawn.unstaffed}
    first = reasons[(ents[0].credit_code, department_pool(DEPTS[0]))]
    assert first["reason"] == "no_allowed_officer"
    assert first["recused"] == 2
    assert first["allowed"] == 0
    assert first["pool_size"] == 2
    exhausted = [u for u in drawn.unstaffed if u["reason"] == "officers_exhausted"]
    assert len({u["enterprise"] for u in exhausted}) == 9
    assert all(u["allowed"] == 2 and u["assigned"] == 0 for u in exhausted)
    staffed = {t.enterprise for t in drawn.teams}
    assert staffed.isdisjoint(u["enterprise"] for u in drawn.unstaffed)
