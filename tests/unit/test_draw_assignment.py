"""Team assignment (v2): in priority order each enterprise is staffed exactly when it can be
together with every enterprise staffed before it (an independent max-flow decides); shortfalls
fall on the lowest priority; constraints always hold."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.draw.verifier import Pool, assign_v1, assign_v2
from domain.plan import Stratum
from tests.unit.draw_support import code, enterprises, officers, rules, run


def _allowed(p: Pool, i: int, j: int) -> bool:
    return j not in p.conf[i] and not (p.own and p.oc[j] == p.ec[i])


def _max_flow_fills(p: Pool, members: list[int]) -> bool:
    """Edmonds–Karp on source → enterprise (q) → officer (1 if allowed) → sink (cap)."""
    n = len(p.caps)
    nodes = 2 + len(members) + n
    cap = [[0] * nodes for _ in range(nodes)]
    src, sink = 0, 1
    for k, i in enumerate(members):
        cap[src][2 + k] = p.q
        for j in range(n):
            if _allowed(p, i, j):
                cap[2 + k][2 + len(members) + j] = 1
    for j in range(n):
        cap[2 + len(members) + j][sink] = p.caps[j]
    flow = 0
    while True:
        parent = {src: src}
        queue = [src]
        for x in queue:
            for y in range(nodes):
                if y not in parent and cap[x][y] > 0:
                    parent[y] = x
                    queue.append(y)
        if sink not in parent:
            return flow == p.q * len(members)
        y = sink
        while y != src:
            x = parent[y]
            cap[x][y] -= 1
            cap[y][x] += 1
            y = x
        flow += 1


def _random_pools(rng: random.Random, m: int) -> list[Pool]:
    ec = [rng.choice("AB") for _ in range(m)]
    pools = []
    for _ in range(rng.randint(1, 2)):
        n = rng.randint(0, 5)
        pools.append(
            Pool(
                rng.randint(1, 2),
                [rng.randint(1, 2) for _ in range(n)],
                [rng.choice("AB") for _ in range(n)],
                ec,
                [{j for j in range(n) if rng.random() < 0.25} for _ in range(m)],
                [rng.randrange(n) if n else 0 for _ in range(m)],
                rng.random() < 0.5,
            )
        )
    return pools


def _check_constraints(pools: list[Pool], short: dict[int, dict[int, int]], m: int) -> None:
    for p in pools:
        load = [0] * len(p.caps)
        for i, team in enumerate(p.teams):
            assert len(team) == (0 if i in short else p.q)
            assert len(set(team)) == len(team)
            for j in team:
                load[j] += 1
                assert _allowed(p, i, j)
        assert load == p.load
        assert all(load[j] <= p.caps[j] for j in range(len(p.caps)))


def test_each_enterprise_is_staffed_exactly_when_it_fits_beside_those_before_it() -> None:
    rng = random.Random(20250301)
    staffed_seen = short_seen = 0
    for _ in range(800):
        m = rng.randint(1, 5)
        pools = _random_pools(rng, m)
        short = assign_v2(pools, m)
        _check_constraints(pools, short, m)
        kept: list[int] = []
        for t in range(m):
            fits = all(_max_flow_fills(p, [*kept, t]) for p in pools)
            assert fits == (t not in short), (t, short)
            if fits:
                kept.append(t)
        staffed_seen += len(kept)
        short_seen += len(short)
    assert staffed_seen > 300
    assert short_seen > 300


def test_a_short_enterprise_holds_no_officer_that_a_later_one_needs() -> None:
    # Enterprise 0 can get its dept officer but no expert; v2 releases the officer for 1.
    dept = Pool(1, [1], ["A"], ["B", "B"], [set(), set()], [0, 0], False)
    expert = Pool(1, [1], ["A"], ["B", "B"], [{0}, set()], [0, 0], False)
    assert assign_v2([dept, expert], 2) == {0: {1: 0}}
    assert dept.teams == [[], [0]]
    assert expert.teams == [[], [0]]


def test_augmenting_paths_reroute_what_first_fit_blocked() -> None:
    # Enterprise 0 takes officer 0 first; enterprise 1 can only use officer 0.
    p = Pool(1, [1, 1], ["A", "A"], ["B", "B"], [set(), {1}], [0, 0], False)
    assert assign_v2([p], 2) == {}
    assert p.teams == [[1], [0]]


def test_version_1_assignment_is_kept_for_old_documents() -> None:
    p = Pool(1, [1, 1], ["A", "A"], ["B", "B"], [set(), {1}], [0, 0], False)
    assert assign_v1([p], 2) == {}
    assert p.teams == [[1], [0]]


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.integers(1, 8), st.integers(1, 3))
def test_constraints_hold_on_larger_random_pools(seed: int, m: int, n: int, demand: int) -> None:
    rng = random.Random(seed)
    ec = [rng.choice("ABC") for _ in range(m)]
    p = Pool(
        demand,
        [rng.randint(1, 3) for _ in range(n)],
        [rng.choice("ABC") for _ in range(n)],
        ec,
        [{j for j in range(n) if rng.random() < 0.2} for _ in range(m)],
        [rng.randrange(n) for _ in range(m)],
        rng.random() < 0.5,
    )
    short = assign_v2([p], m)
    _check_constraints([p], short, m)
    kept = [t for t in range(m) if t not in short]
    for t in short:  # nothing short could have been staffed beside those staffed before it
        assert not _max_flow_fills(p, [k for k in kept if k < t] + [t])


def test_shortfall_falls_on_the_lowest_risk_strata() -> None:
    """Too few officers: every red enterprise is staffed while any lower one is, and the
    unstaffed share rises from red to blue."""
    ents = enterprises(120)
    strata = (Stratum("*", "red", "*", "1"), Stratum("*", "*", "*", "1"))
    drawn = run(rules(strata=strata, workload_cap=2), ents=ents, offs=officers(30))
    colour = {e.credit_code: e.risk_colour for e in ents}
    short = {u["enterprise"] for u in drawn.unstaffed}
    staffed = {t.enterprise for t in drawn.teams}
    assert short
    assert staffed
    by_colour = Counter(colour[c] for c in short)
    selected = Counter(colour[c] for c, _, _ in drawn.selected)
    assert by_colour["red"] == 0 < by_colour["blue"]
    assert selected["red"] == 40
    assert all(u["priority"] > 5 for u in drawn.unstaffed)
    order = [c for c, _, _ in drawn.selected]
    reds = [i for i, c in enumerate(order) if colour[c] == "red"]
    assert reds == list(range(len(reds)))  # red strata come first in team order
    assert code(1) in staffed  # enterprise 1 is red (every third one is)


def test_with_the_default_strata_the_unstaffed_share_rises_from_red_to_blue() -> None:
    """The issue's measurement, reversed: default strata, officers short, own-county rule on."""
    from config.policy_sampling import load_sampling_policy
    from domain.draw.synthetic import make_enterprises, make_officers

    ents, history = make_enterprises(4000, seed=5)
    offs = make_officers(20, [e.credit_code for e in ents], seed=6)
    strata = load_sampling_policy().default_strata()
    r = rules(strata=strata, workload_cap=4, own_county_rule=True, counties=())
    drawn = run(r, ents, offs, history=history)
    colour = {e.credit_code: e.risk_colour for e in ents}
    short = {u["enterprise"] for u in drawn.unstaffed}
    share = {}
    for k in ("red", "orange", "yellow", "blue"):
        chosen = [c for c, _, _ in drawn.selected if colour[c] == k]
        share[k] = sum(c in short for c in chosen) / len(chosen)
    assert short
    assert share["red"] <= share["orange"] <= share["yellow"] <= share["blue"], share
    assert share["red"] < 0.05 < share["blue"], share
