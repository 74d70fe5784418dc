"""Selection is uniform within each stratum over 10,000 seeded draws (chi-square test)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from scipy.stats import chisquare

from domain.draw import commitment_of, draw, freeze
from domain.draw.snapshot import enterprise_rows, officer_rows
from domain.plan import Stratum
from tests.unit.draw_support import RECORD, enterprises, officers, rules, secret_for

DRAWS = 10_000


def test_selection_frequencies_are_uniform_within_each_stratum() -> None:
    ents = enterprises(15)  # 5 red, 10 blue
    plan_rules = replace(
        rules(),
        strata=(Stratum("*", "red", "*", "0.4"), Stratum("*", "*", "*", "0.3")),
        cooldown_days=0,
    )
    e_rows, o_rows = enterprise_rows(ents), officer_rows(officers(6))
    colour = {e.credit_code: e.risk_colour for e in ents}
    counts: Counter[str] = Counter()
    ks: Counter[str] = Counter()
    for i in range(DRAWS):
        secret = secret_for(i)
        fz = freeze(
            plan_id="UNIFORM",
            period="2025-03",
            rules=plan_rules,
            enterprise_rows=e_rows,
            officer_rows=o_rows,
            commitment=commitment_of(secret),
            record=RECORD,
        )
        drawn = draw(fz, secret=secret, public_value="1")
        for code, stratum, _rank in drawn.selected:
            counts[code] += 1
            ks[stratum] += 1
    assert ks == {"*|red|*": 2 * DRAWS, "*|*|*": 3 * DRAWS}  # ceil(0.4×5), ceil(0.3×10)
    for wanted in ("red", "blue"):
        observed = [counts[c] for c in sorted(colour) if colour[c] == wanted]
        assert all(o > 0 for o in observed)
        _stat, p_value = chisquare(observed)
        assert p_value > 0.001, (wanted, observed, p_value)
