"""Team assignment: feasible exactly when brute force says so; constraints always hold."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.draw.assign import PoolProblem, assign_pool


def _brute_force_max(p: PoolProblem) -> int:
    """The most officer slots any assignment fills (exhaustive search)."""
    m, n = len(p.enterprise_county), len(p.caps)

    def allowed(i: int, j: int) -> bool:
        return j not in p.conflicts[i] and not (
            p.own_county_rule and p.officer_county[j] == p.enterprise_county[i]
        )

    options = [
        [
            combo
            for size in range(p.demand + 1)
            for combo in itertools.combinations([j for j in range(n) if allowed(i, j)], size)
        ]
        for i in range(m)
    ]
    best = 0
    for choice in itertools.product(*options):
        load = [0] * n
        for combo in choice:
            for j in combo:
                load[j] += 1
        if all(load[j] <= p.caps[j] for j in range(n)):
            best = max(best, sum(len(c) for c in choice))
    return best


def _random_problem(rng: random.Random) -> PoolProblem:
    m, n = rng.randint(1, 4), rng.randint(0, 4)
    counties = ["A", "B"]
    return PoolProblem(
        demand=rng.randint(1, 2),
        caps=[rng.randint(1, 2) for _ in range(n)],
        officer_county=[rng.choice(counties) for _ in range(n)],
        enterprise_county=[rng.choice(counties) for _ in range(m)],
        conflicts=[frozenset(j for j in range(n) if rng.random() < 0.25) for _ in range(m)],
        start=[rng.randrange(n) if n else 0 for _ in range(m)],
        own_county_rule=rng.random() < 0.5,
    )


def _check_constraints(p: PoolProblem, teams: list[list[int]]) -> None:
    load = [0] * len(p.caps)
    for i, team in enumerate(teams):
        assert len(team) <= p.demand
        assert len(set(team)) == len(team)
        for j in team:
            load[j] += 1
            assert j not in p.conflicts[i]
            assert not (p.own_county_rule and p.officer_county[j] == p.enterprise_county[i])
    assert all(load[j] <= p.caps[j] for j in range(len(p.caps)))


def test_assignment_is_maximum_and_feasible_exactly_when_brute_force_says_so() -> None:
    rng = random.Random(20250301)
    feasible_seen = infeasible_seen = 0
    for _ in range(1500):
        p = _random_problem(rng)
        result = assign_pool(p)
        _check_constraints(p, result.teams)
        best = _brute_force_max(p)
        assert sum(len(t) for t in result.teams) == best
        full = best == p.demand * len(p.enterprise_county)
        assert (not result.short) == full
        assert set(result.short) == {i for i, t in enumerate(result.teams) if len(t) < p.demand}
        feasible_seen += full
        infeasible_seen += not full
    assert feasible_seen > 200
    assert infeasible_seen > 200


def test_augmenting_paths_reroute_what_first_fit_blocked() -> None:
    # Enterprise 0 takes officer 0 first; enterprise 1 can only use officer 0.
    p = PoolProblem(
        demand=1,
        caps=[1, 1],
        officer_county=["A", "A"],
        enterprise_county=["B", "B"],
        conflicts=[frozenset(), frozenset({1})],
        start=[0, 0],
        own_county_rule=False,
    )
    result = assign_pool(p)
    assert result.short == []
    assert result.teams == [[1], [0]]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 12),
    st.integers(1, 8),
    st.integers(1, 3),
)
def test_constraints_hold_on_larger_random_pools(seed: int, m: int, n: int, demand: int) -> None:
    rng = random.Random(seed)
    p = PoolProblem(
        demand=demand,
        caps=[rng.randint(1, 3) for _ in range(n)],
        officer_county=[rng.choice("ABC") for _ in range(n)],
        enterprise_county=[rng.choice("ABC") for _ in range(m)],
        conflicts=[frozenset(j for j in range(n) if rng.random() < 0.2) for _ in range(m)],
        start=[rng.randrange(n) for _ in range(m)],
        own_county_rule=rng.random() < 0.5,
    )
    result = assign_pool(p)
    _check_constraints(p, result.teams)
    # Maximality: no enterprise short of officers could take any allowed officer with spare room.
    for i in result.short:
        for j in range(n):
            if j in p.conflicts[i] or j in result.teams[i]:
                continue
            if p.own_county_rule and p.officer_county[j] == p.enterprise_county[i]:
                continue
            assert result.load[j] == p.caps[j]
