"""The demo directory generator: valid, deterministic data that a draw staffs completely."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from config.policy_region import default_region
from config.policy_sampling import PlanFile, load_sampling_policy
from demo.data import demo_counties, demo_enterprises
from demo.directory import (
    DEMO_PLAN_ID,
    DEPARTMENTS,
    demo_items,
    demo_officers,
    demo_plan_spec,
)
from domain.credit_code import validate_credit_code
from domain.directory import Enterprise, EnterpriseCode
from domain.draw import commitment_of, draw, freeze, verify_bytes
from domain.draw.public_value import period_label
from domain.draw.snapshot import enterprise_rows, officer_rows
from services.draws import cron_trigger
from tests.unit.draw_support import RECORD

AS_OF = date(2026, 3, 1)
POLICY = load_sampling_policy()


def test_generator_is_deterministic() -> None:
    assert demo_officers(as_of=AS_OF) == demo_officers(as_of=AS_OF)
    assert demo_items() == demo_items()
    assert demo_plan_spec() == demo_plan_spec()
    assert demo_officers(as_of=AS_OF, seed=1) != demo_officers(as_of=AS_OF)


def test_officers_and_experts_are_valid() -> None:
    people = demo_officers(as_of=AS_OF)
    officers = [p for p in people if not p.auxiliary]
    experts = [p for p in people if p.auxiliary]
    assert len(officers) == 40
    assert len(experts) == 6
    assert {o.department for o in officers} == set(DEPARTMENTS)
    ids = [p.officer_id for p in people]
    assert len(set(ids)) == len(ids)
    assert len({p.name for p in people}) == len(people)
    counties = {name for _, name in demo_counties()}
    assert all(p.county in counties for p in people)
    certs = [o.certificate_no for o in officers if o.certificate_no]
    assert len(set(certs)) == len(certs) == 39
    for o in officers:
        if o.certificate_valid_from and o.certificate_valid_to:
            assert o.certificate_valid_from <= o.certificate_valid_to
    assert all(not e.certificate_no for e in experts)
    codes = {e.credit_code for e in demo_enterprises()}
    conflicts = [c for p in people for c in p.conflicts]
    assert len(conflicts) == 5
    for c in conflicts:
        assert c.credit_code in codes
        validate_credit_code(c.credit_code)
        assert c.reason
    assert sum(not p.active for p in people) == 3


def test_items_cover_every_demo_sector() -> None:
    items = demo_items()
    assert len(items) == 17
    assert len({i.item_id for i in items}) == len(items)
    sectors = {s.code for s in default_region().sectors}
    for item in items:
        assert set(item.sectors) <= sectors | {"*"}
        assert len(item.legal_basis) > 4
        assert item.item
        assert item.sub_item
    for sector in sectors:
        assert sum(i.applies_to(sector) for i in items) >= 9
    assert any("安全生产法" in i.legal_basis for i in items)


def test_plan_uses_policy_defaults_and_fires_monthly() -> None:
    spec = demo_plan_spec()
    plan = PlanFile.model_validate(spec).to_plan(POLICY)
    assert plan.plan_id == DEMO_PLAN_ID
    assert plan.rules.strata == POLICY.default_strata()
    assert plan.rules.yearly_cap == POLICY.defaults.yearly_cap.value
    assert plan.rules.workload_cap == POLICY.defaults.workload_cap.value
    assert plan.rules.own_county_rule is True
    assert plan.rules.team.departments == DEPARTMENTS
    assert plan.rules.team.quotas == (1, 1)
    assert plan.rules.team.experts == 1
    assert plan.rules.excluded[0][0] == demo_enterprises()[-1].credit_code
    tz = ZoneInfo("Asia/Shanghai")
    trigger = cron_trigger(spec["schedule"]["cron"], spec["schedule"]["timezone"])
    fire = trigger.get_next_fire_time(None, datetime(2026, 2, 14, tzinfo=tz))
    assert fire == datetime(2026, 3, 1, 9, 0, tzinfo=tz)


def test_a_draw_of_the_demo_directory_is_complete_and_shows_every_exclusion() -> None:
    ents = [
        Enterprise(EnterpriseCode(e.credit_code), e.name, e.county, e.sector, e.risk_colour,
                   e.credit_class)
        for e in demo_enterprises()
    ]  # fmt: skip
    plan = PlanFile.model_validate(demo_plan_spec()).to_plan(POLICY)
    rules = replace(plan.rules, period_start=AS_OF, period_end=date(2026, 3, 28))
    secret = bytes(range(32))
    frozen = freeze(
        plan_id=plan.plan_id,
        period=period_label(rules.period_start, rules.period_end),
        rules=rules,
        enterprise_rows=enterprise_rows(ents),
        officer_rows=officer_rows(demo_officers(as_of=AS_OF)),
        commitment=commitment_of(secret),
        record=RECORD,
    )
    drawn = draw(frozen, secret=secret, public_value="1")
    assert drawn.complete
    assert len(drawn.teams) == len(drawn.selected) >= 16
    assert all(len(t.officers) == 2 and len(t.experts) == 1 for t in drawn.teams)
    reasons = {r for _, r, _ in frozen.eligibility.excluded_officers}
    assert reasons == {
        "inactive",
        "certificate_expires",
        "certificate_not_yet_valid",
        "certificate_missing",
    }
    assert [r for _, r, _ in frozen.eligibility.excluded_enterprises] == ["excluded_by_plan"]
    assert verify_bytes(drawn.document_bytes() + b"\n") is None
