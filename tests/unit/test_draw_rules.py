"""Caps, cooldowns, recusals, certificates, department mix, workload caps, experts always hold."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.directory import Enterprise, Officer
from domain.draw import Drawn, commitment_of, draw, freeze
from domain.draw.engine import stratum_size
from domain.draw.snapshot import enterprise_rows, officer_rows
from domain.plan import ShutdownPolicy, Stratum, TeamRule
from tests.unit.draw_support import DEPTS, RECORD, random_world, rules, secret_for

START, END = date(2025, 3, 1), date(2025, 3, 31)


def _check(
    drawn: Drawn, ents: list[Enterprise], history: dict, offs: list[Officer], prior: dict
) -> None:
    r = drawn.frozen.rules
    by_code = {e.credit_code: e for e in ents}
    by_id = {o.officer_id: o for o in offs}
    selected = [c for c, _, _ in drawn.selected]
    assert len(set(selected)) == len(selected)
    for c in selected:
        e, h = by_code[c], history[c]
        assert not e.deregistered
        assert h.inspections_this_year < r.yearly_cap
        assert h.last_inspected_on is None or (START - h.last_inspected_on).days >= r.cooldown_days
        if r.shutdown_policy is ShutdownPolicy.EXCLUDE:
            assert e.operating_state not in r.shutdown_states
    staffed = {t.enterprise for t in drawn.teams}
    unstaffed = {u["enterprise"] for u in drawn.unstaffed}
    assert staffed | unstaffed == set(selected)
    assert not staffed & unstaffed
    load: Counter[str] = Counter()
    for t in drawn.teams:
        assert len(t.officers) == r.team.size
        assert len(set(t.officers)) == r.team.size
        assert len(t.experts) == r.team.experts
        leader = by_id[t.leader]
        assert not leader.auxiliary
        assert leader.department == r.team.departments[0]
        depts = Counter(by_id[o].department for o in t.officers)
        assert depts == dict(zip(r.team.departments, r.team.quotas, strict=True))
        for oid in (*t.officers, *t.experts):
            o = by_id[oid]
            load[oid] += 1
            assert o.active
            assert t.enterprise not in {c.credit_code for c in o.conflicts}
            if r.own_county_rule:
                assert o.county != by_code[t.enterprise].county
        for oid in t.officers:
            o = by_id[oid]
            assert not o.auxiliary
            assert o.certificate_no
            assert o.certificate_valid_to is not None
            assert o.certificate_valid_to >= END
            assert o.certificate_valid_from is None or o.certificate_valid_from <= START
        assert all(by_id[x].auxiliary for x in t.experts)
    for oid, n in load.items():
        assert n + prior[oid] <= r.workload_cap


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    own=st.booleans(),
    experts=st.integers(0, 1),
    size=st.integers(2, 3),
    cap=st.integers(1, 4),
    cooldown=st.sampled_from([0, 30, 90]),
    shutdown=st.sampled_from(list(ShutdownPolicy)),
)
def test_every_hard_rule_holds(
    seed: int, own: bool, experts: int, size: int, cap: int, cooldown: int, shutdown: ShutdownPolicy
) -> None:
    ents, history, offs, prior = random_world(seed)
    quotas = (2, 1) if size == 3 else (1, 1)
    r = replace(
        rules(),
        own_county_rule=own,
        workload_cap=cap,
        cooldown_days=cooldown,
        shutdown_policy=shutdown,
        team=TeamRule(size=size, departments=DEPTS, quotas=quotas, experts=experts),
        strata=(
            Stratum("非煤矿山", "*", "*", "0.5"),
            Stratum("*", "red", "D", "1", maximum=2),
            Stratum("*", "*", "*", "0.3", minimum=1),
        ),
    )
    s = secret_for(seed % 1000)
    fz = freeze(
        plan_id="P",
        period="2025-03",
        rules=r,
        enterprise_rows=enterprise_rows(ents, history),
        officer_rows=officer_rows(offs, prior),
        commitment=commitment_of(s),
        record=RECORD,
    )
    drawn = draw(fz, secret=s, public_value=str(seed))
    _check(drawn, ents, history, offs, prior)
    for sid, eligible, k in drawn.strata:
        stratum = next(x for x in r.strata if x.stratum_id == sid)
        assert k == stratum_size(stratum.ratio, eligible, stratum.minimum, stratum.maximum)


def test_stratum_size_bounds() -> None:
    assert stratum_size("0.05", 100, 0, None) == 5
    assert stratum_size("0.05", 101, 0, None) == 6  # ceil
    assert stratum_size("0.1", 7, 3, None) == 3
    assert stratum_size("1", 7, 0, 4) == 4
    assert stratum_size("0.5", 2, 5, None) == 2  # never more than are eligible
    assert stratum_size("0", 50, 0, None) == 0
    assert stratum_size("0.3", 10, 0, None) == math.ceil(0.3 * 10)


def test_random_worlds_exercise_both_staffed_and_unstaffed_outcomes() -> None:
    teams = unstaffed = 0
    for seed in range(300):
        ents, history, offs, prior = random_world(seed)
        r = replace(
            rules(),
            own_county_rule=seed % 2 == 0,
            workload_cap=2,
            strata=(Stratum("*", "*", "*", "0.5"),),
        )
        s = secret_for(seed)
        fz = freeze(
            plan_id="P",
            period="2025-03",
            rules=r,
            enterprise_rows=enterprise_rows(ents, history),
            officer_rows=officer_rows(offs, prior),
            commitment=commitment_of(s),
            record=RECORD,
        )
        drawn = draw(fz, secret=s, public_value="1")
        _check(drawn, ents, history, offs, prior)
        teams += len(drawn.teams)
        unstaffed += len(drawn.unstaffed)
    assert teams > 30
    assert unstaffed > 30
