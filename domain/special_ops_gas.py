"""Judging a gas analysis (气体分析) against GB 30871-2022 and GBZ 2.1-2019.

Combustibles are judged by volume (GB 30871-2022 5.3.2): a % LEL reading is converted with the
gas's LEL, never held to one % LEL figure for every gas. The numbers and gas tables come from
config/special_operations.yaml; this module only applies them. Problems are catalogue messages.
"""

from __future__ import annotations

from domain.i18n import Message, msg
from domain.special_ops_model import Combustible, GasLimits, GasReading

__all__ = ["combustible_lels", "gas_key", "gas_problems", "is_acceptable"]

#: Readings are compared after rounding away float noise (10 % LEL × 5 % = 0.5 % vol exactly).
_DIGITS = 6


def gas_key(name: str) -> str:
    """The lookup key of a gas name or alias (upper case, no blanks)."""
    return "".join(name.split()).upper()


def combustible_lels(reading: GasReading, limits: GasLimits) -> list[float]:
    """Every LEL (% vol) that applies to the reading: the gas table's and the reported one."""
    lels: list[float] = []
    if reading.gas:
        known: Combustible | None = limits.combustibles.get(gas_key(reading.gas))
        if known is not None:
            lels.append(known.lel_vol_pct)
    if reading.lel_vol_pct is not None and reading.lel_vol_pct not in lels:
        lels.append(reading.lel_vol_pct)
    return lels


def _cap(lel: float, limits: GasLimits) -> float:
    return (
        limits.vol_pct_max_lel_ge if lel >= limits.lel_split_vol_pct else limits.vol_pct_max_lel_lt
    )


def _combustible_problems(reading: GasReading, limits: GasLimits) -> list[Message]:
    lels = combustible_lels(reading, limits)
    gas: str | Message = reading.gas or msg("gas.combustible")
    out: list[Message] = []
    if reading.lel_pct is not None:
        if not lels:
            # Refused rather than guessed: 10 % LEL of ammonia is 1.5 % vol, three times the limit.
            out.append(msg("gas.lel.unknown", gas=gas, value=reading.lel_pct))
        for lel in lels:
            vol = round(reading.lel_pct * lel / 100, _DIGITS)
            if vol > _cap(lel, limits):
                out.append(
                    msg(
                        "gas.lel.converted",
                        gas=gas,
                        value=reading.lel_pct,
                        lel=lel,
                        vol=vol,
                        max=_cap(lel, limits),
                    )
                )
    if reading.combustible_vol_pct is not None:
        vol = round(reading.combustible_vol_pct, _DIGITS)
        # Without a known LEL the stricter limit applies (bureau interpretation).
        for lel in lels or [0.0]:
            if vol > _cap(lel, limits):
                code = "gas.vol.named" if lel else "gas.vol.no_lel"
                out.append(msg(code, gas=gas, value=vol, max=_cap(lel, limits), lel=lel))
    return out


def gas_problems(
    reading: GasReading, limits: GasLimits, *, oxygen_enriched: bool = False
) -> list[Message]:
    """Why a reading is out of limits or cannot be judged (empty when it is acceptable)."""
    out: list[Message] = []
    o2_max = limits.o2_max_enriched_pct if oxygen_enriched else limits.o2_max_pct
    if reading.o2_pct is not None and not limits.o2_min_pct <= reading.o2_pct <= o2_max:
        code = "gas.o2.enriched" if oxygen_enriched else "gas.o2"
        out.append(msg(code, value=reading.o2_pct, min=limits.o2_min_pct, max=o2_max))
    out += _combustible_problems(reading, limits)
    for name, value in (reading.toxic_ppm or {}).items():
        toxic = limits.toxics.get(gas_key(name))
        if toxic is None:
            out.append(msg("gas.toxic.unknown", name=name))
        elif value > toxic.limit_ppm:
            out.append(
                msg(
                    "gas.toxic.limit",
                    name=toxic.name,
                    value=value,
                    max=toxic.limit_ppm,
                    basis=msg(f"term.oel_basis.{toxic.basis}"),
                )
            )
    return out


def is_acceptable(
    reading: GasReading | None, limits: GasLimits, *, oxygen_enriched: bool = False
) -> bool:
    """Whether a reading exists and passes every limit."""
    return reading is not None and not gas_problems(
        reading, limits, oxygen_enriched=oxygen_enriched
    )
