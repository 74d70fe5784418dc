"""The bureau's region: its counties and development zones and the sectors of its economy."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class County:
    """A county, county-level city or development zone the bureau supervises."""

    name: str
    short: str
    division: str
    kind: str
    streets: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Sector:
    """A sector of the directory and its share of the demo directory."""

    code: str
    name: str
    demo_share: float
    trades: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Region:
    """The bureau and what it supervises (config/region.yaml)."""

    bureau: str
    bureau_short: str
    prefecture: str
    prefecture_short: str
    division: str
    province: str
    counties: tuple[County, ...]
    sectors: tuple[Sector, ...]

    def county(self, name: str) -> County | None:
        """The county or zone called `name`, if the region has it."""
        return next((c for c in self.counties if c.name == name), None)
