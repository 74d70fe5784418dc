"""The verifiable draw (双随机): snapshots, commitment, seed, selection, team assignment."""

from __future__ import annotations

from domain.draw.engine import (
    ALGORITHM,
    Drawn,
    Frozen,
    Record,
    Team,
    commitment_of,
    derive_seed,
    draw,
    freeze,
    parse_secret,
)
from domain.draw.verify import load_frozen, verify_bytes

__all__ = [
    "ALGORITHM",
    "Drawn",
    "Frozen",
    "Record",
    "Team",
    "commitment_of",
    "derive_seed",
    "draw",
    "freeze",
    "load_frozen",
    "parse_secret",
    "verify_bytes",
]
