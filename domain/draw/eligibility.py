"""Who may be drawn: enterprise and officer eligibility with a stated reason for every exclusion."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from domain.draw.snapshot import Row
from domain.errors import ValidationFailed
from domain.i18n import msg
from domain.plan import DrawMode, DrawRules, ShutdownPolicy

FIXED_STRATUM = "fixed"
EXPERT_POOL = "expert"


def department_pool(department: str) -> str:
    """Pool identifier of a department's officers."""
    return f"dept:{department}"


@dataclass(frozen=True, slots=True)
class Pool:
    """Eligible members of one pool (a department's officers, or the experts) and their capacity."""

    pool_id: str
    demand: int
    members: list[int]
    capacities: list[int]


@dataclass(frozen=True, slots=True)
class Eligibility:
    """Eligible enterprises by stratum, officers by pool, and every exclusion with its reason."""

    strata: list[tuple[str, list[int]]]
    excluded_enterprises: list[list[str]]
    pools: list[Pool]
    excluded_officers: list[list[str]]

    def to_json(self, ent_rows: list[Row], off_rows: list[Row]) -> dict[str, Any]:
        """The published eligibility section."""
        return {
            "enterprises": {
                "excluded": self.excluded_enterprises,
                "strata": [[sid, [ent_rows[i][0] for i in idx]] for sid, idx in self.strata],
            },
            "officers": {
                "excluded": self.excluded_officers,
                "pools": [
                    [
                        p.pool_id,
                        [[off_rows[i][0], c] for i, c in zip(p.members, p.capacities, strict=True)],
                    ]
                    for p in self.pools
                ],
            },
        }


def _check_dates(values: list[Any], what: str) -> None:
    for value in values:
        if value is not None:
            try:
                if len(value) != 10 or date.fromisoformat(value).isoformat() != value:
                    raise ValueError(value)
            except ValueError as exc:
                raise ValidationFailed(msg("draw.not_a_date", what=what, value=value)) from exc


def enterprise_eligibility(
    rules: DrawRules, rows: list[Row]
) -> tuple[list[tuple[str, list[int]]], list[list[str]]]:
    """Assign each eligible enterprise to its stratum; list the others with reason and detail."""
    _check_dates([r[9] for r in rows], "enterprises.last_inspected_on")
    counties = frozenset(rules.counties)
    sectors = frozenset(rules.sectors)
    listed = dict(rules.excluded)
    fixed = rules.mode is DrawMode.FIXED
    fixed_set = frozenset(rules.fixed_list)
    shut = (
        frozenset(rules.shutdown_states)
        if rules.shutdown_policy is ShutdownPolicy.EXCLUDE
        else frozenset()
    )
    cap = rules.yearly_cap
    cutoff = (rules.period_start - timedelta(days=rules.cooldown_days)).isoformat()
    cooldown = rules.cooldown_days > 0
    strata_ids = [FIXED_STRATUM] if fixed else [s.stratum_id for s in rules.strata]
    members: list[list[int]] = [[] for _ in strata_ids]
    stratum_of: dict[tuple[str, str, str], int] = {}
    excluded: list[list[str]] = []
    add = excluded.append
    for i, (code, _n, county, sector, colour, klass, state, dereg, count, last) in enumerate(rows):
        if dereg:
            add([code, "deregistered", ""])
        elif counties and county not in counties:
            add([code, "out_of_scope_county", county])
        elif sectors and sector not in sectors:
            add([code, "out_of_scope_sector", sector])
        elif code in listed:
            add([code, "excluded_by_plan", listed[code]])
        elif fixed and code not in fixed_set:
            add([code, "not_listed", ""])
        elif state in shut:
            add([code, "shutdown", state])
        elif count >= cap:
            add([code, "yearly_cap_reached", str(count)])
        elif cooldown and last is not None and last > cutoff:
            add([code, "cooldown", last])
        elif fixed:
            members[0].append(i)
        else:
            key = (sector, colour, klass)
            slot = stratum_of.get(key)
            if slot is None:
                slot = next(
                    (j for j, s in enumerate(rules.strata) if s.matches(sector, colour, klass)), -1
                )
                stratum_of[key] = slot
            if slot < 0:
                add([code, "no_stratum", f"{sector}|{colour}|{klass}"])
            else:
                members[slot].append(i)
    return list(zip(strata_ids, members, strict=True)), excluded


def officer_eligibility(rules: DrawRules, rows: list[Row]) -> tuple[list[Pool], list[list[str]]]:
    """Sort officers into department pools and the expert pool; list the others with reason."""
    _check_dates([r[2] for r in rows] + [r[3] for r in rows], "officers.certificate dates")
    for row in rows:
        conflicts = row[9]
        if not all(type(c) is str for c in conflicts) or any(
            a >= b for a, b in itertools.pairwise(conflicts)
        ):
            raise ValidationFailed(msg("draw.officer_conflicts_order", row=row[0]))
    start, end = rules.period_start.isoformat(), rules.period_end.isoformat()
    team = rules.team
    pool_index = {d: k for k, d in enumerate(team.departments)}
    pools = [
        Pool(department_pool(d), q, [], [])
        for d, q in zip(team.departments, team.quotas, strict=True)
    ]
    if team.experts > 0:
        pools.append(Pool(EXPERT_POOL, team.experts, [], []))
    excluded: list[list[str]] = []
    for i, row in enumerate(rows):
        oid, cert, valid_from, valid_to, dept, _county, active, aux, prior, _c = row
        capacity = rules.workload_cap - prior
        reason, detail = "", ""
        if not active:
            reason = "inactive"
        elif aux and team.experts == 0:
            reason = "expert_not_required"
        elif not aux and dept not in pool_index:
            reason, detail = "department_not_in_plan", dept
        elif not aux and not cert:
            reason = "certificate_missing"
        elif not aux and valid_to is None:
            reason = "certificate_validity_unknown"
        elif not aux and valid_to < end:
            reason, detail = "certificate_expires", valid_to
        elif not aux and valid_from is not None and valid_from > start:
            reason, detail = "certificate_not_yet_valid", valid_from
        elif capacity <= 0:
            reason, detail = "workload_cap_reached", str(prior)
        if reason:
            excluded.append([oid, reason, detail])
            continue
        pool = pools[-1] if aux else pools[pool_index[dept]]
        pool.members.append(i)
        pool.capacities.append(capacity)
    return pools, excluded
