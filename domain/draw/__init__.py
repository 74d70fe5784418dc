"""The verifiable draw (双随机): snapshots, commitment, seed, selection, team assignment."""

from __future__ import annotations

from domain.draw.engine import (
    ALGORITHM,
    Drawn,
    Frozen,
    Team,
    commitment_of,
    derive_seed,
    draw,
    freeze,
    parse_secret,
)
from domain.draw.verify import first_difference, load_frozen, rederive, verify_bytes

__all__ = [
    "ALGORITHM",
    "Drawn",
    "Frozen",
    "Team",
    "commitment_of",
    "derive_seed",
    "draw",
    "first_difference",
    "freeze",
    "load_frozen",
    "parse_secret",
    "rederive",
    "verify_bytes",
]
