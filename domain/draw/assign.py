"""Team assignment for one pool as a maximum flow: seed-ordered first fit, then augmenting paths.

Network: source → enterprise (capacity = the pool's quota per team) → officer (capacity 1 when
allowed: no declared conflict, not the enterprise's county under the own-county rule) → sink
(capacity = the officer's remaining workload). Phase 1 gives each enterprise, in team order, the
first allowed officer with spare capacity scanning the pool's rank order cyclically from the
enterprise's start offset. Phase 2 visits enterprises in team order and, while one still lacks
officers, searches the residual graph breadth-first for an augmenting path (Ford–Fulkerson).
A vertex set reached by a failed search can never reach the sink later (augmenting paths avoid
it), so it is marked dead and skipped; this changes no result, only the running time. When no
path exists the flow is maximum, hence every quota that any assignment could meet is met.
"""

from __future__ import annotations

from bisect import insort
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PoolProblem:
    """One pool's flow problem; officers are indexed in rank order, enterprises in team order."""

    demand: int
    caps: list[int]
    officer_county: list[str]
    enterprise_county: list[str]
    conflicts: list[frozenset[int]]
    start: list[int]
    own_county_rule: bool


@dataclass(slots=True)
class PoolResult:
    """Officer positions per enterprise, their loads, and the enterprises left short."""

    teams: list[list[int]]
    load: list[int]
    short: list[int] = field(default_factory=list)


def _first_fit(
    p: PoolProblem, teams: list[list[int]], load: list[int], holders: list[list[int]]
) -> None:
    n = len(p.caps)
    nxt = list(range(n + 1))  # nxt-chain: smallest position >= j whose officer has spare capacity

    def find(j: int) -> int:
        root = j
        while nxt[root] != root:
            root = nxt[root]
        while nxt[j] != root:
            nxt[j], j = root, nxt[j]
        return root

    own, ocounty, caps = p.own_county_rule, p.officer_county, p.caps
    for i in range(len(teams)):
        s, team, conf, county = p.start[i], teams[i], p.conflicts[i], p.enterprise_county[i]
        for _ in range(p.demand):
            got = -1
            for lo, hi in ((s, n), (0, s)):
                j = find(lo)
                while j < hi:
                    if j not in conf and j not in team and not (own and ocounty[j] == county):
                        got = j
                        break
                    j = find(j + 1)
                if got >= 0:
                    break
            if got < 0:
                break
            team.append(got)
            holders[got].append(i)
            load[got] += 1
            if load[got] == caps[got]:
                nxt[got] = got + 1


def _augment(
    p: PoolProblem,
    e: int,
    teams: list[list[int]],
    load: list[int],
    holders: list[list[int]],
    dead_e: bytearray,
    dead_o: bytearray,
    alive: list[int],
) -> bool:
    if dead_e[e]:  # e lies in a closed set a failed search found: no path can leave it
        return False
    n = len(p.caps)
    own, ocounty, caps = p.own_county_rule, p.officer_county, p.caps
    parent: dict[int, tuple[int, int]] = {e: (-1, -1)}
    queue = [e]
    seen: list[int] = []
    # nxt-chain over officers neither seen in this search nor dead: scans jump over them.
    nxt = alive.copy()

    def find(j: int) -> int:
        root = j
        while nxt[root] != root:
            root = nxt[root]
        while nxt[j] != root:
            nxt[j], j = root, nxt[j]
        return root

    for x in queue:
        s, team, conf, county = p.start[x], teams[x], p.conflicts[x], p.enterprise_county[x]
        for lo, hi in ((s, n), (0, s)):
            j = find(lo)
            while j < hi:
                if j in conf or j in team or (own and ocounty[j] == county):
                    j = find(j + 1)
                    continue
                seen.append(j)
                nxt[j] = j + 1
                if load[j] < caps[j]:
                    teams[x].append(j)
                    insort(holders[j], x)
                    load[j] += 1
                    while x != e:
                        px, pj = parent[x]
                        teams[x].remove(pj)
                        holders[pj].remove(x)
                        teams[px].append(pj)
                        insort(holders[pj], px)
                        x = px
                    return True
                for y in holders[j]:
                    if y not in parent and not dead_e[y]:
                        parent[y] = (x, j)
                        queue.append(y)
                j = find(j + 1)
    for x in queue:
        dead_e[x] = 1
    for j in seen:
        dead_o[j] = 1
    if seen:  # point every officer at the next live one, so later searches jump in one step
        nearest = n
        for j in range(n - 1, -1, -1):
            if not dead_o[j]:
                nearest = j
            alive[j] = nearest
    return False


def assign_pool(p: PoolProblem) -> PoolResult:
    """Solve one pool: a maximum assignment, deterministic given the orders in `p`."""
    m, n = len(p.enterprise_county), len(p.caps)
    teams: list[list[int]] = [[] for _ in range(m)]
    load = [0] * n
    holders: list[list[int]] = [[] for _ in range(n)]
    result = PoolResult(teams, load)
    if p.demand == 0:
        return result
    if n:
        _first_fit(p, teams, load, holders)
    dead_e, dead_o = bytearray(m), bytearray(n)
    alive = list(range(n + 1))  # nxt-chain skipping dead officers
    for e in range(m):
        while len(teams[e]) < p.demand:
            if not n or not _augment(p, e, teams, load, holders, dead_e, dead_o, alive):
                result.short.append(e)
                break
    return result


def shortfalls(p: PoolProblem, result: PoolResult) -> dict[int, dict[str, int | str]]:
    """Why each enterprise short in this pool lacks officers: counts and a reason code."""
    n = len(p.caps)
    by_county = Counter(p.officer_county)
    out: dict[int, dict[str, int | str]] = {}
    for e in result.short:
        conf, county = p.conflicts[e], p.enterprise_county[e]
        recused = len(conf)
        own = 0
        if p.own_county_rule:
            own = by_county[county] - sum(1 for j in conf if p.officer_county[j] == county)
        allowed = n - recused - own
        if n == 0:
            reason = "pool_empty"
        elif allowed == 0:
            reason = "no_allowed_officer"
        elif allowed < p.demand:
            reason = "too_few_allowed_officers"
        else:
            reason = "officers_exhausted"
        out[e] = {
            "reason": reason,
            "needed": p.demand,
            "assigned": len(result.teams[e]),
            "pool_size": n,
            "recused": recused,
            "own_county": own,
            "allowed": allowed,
        }
    return out
