"""config/region.yaml: the bureau's counties, zones and sectors, validated (extra keys refused)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from config.policy_files import load_yaml
from domain.region import County, Region, Sector

#: The region shipped with Safewatch (昌吉回族自治州); a bureau's policy dir may replace it.
DEFAULT_REGION_PATH = Path(__file__).resolve().parent / "region.yaml"
_DIVISION = r"^\d{6}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CountySpec(_Strict):
    """One county, county-level city or zone."""

    name: str = Field(min_length=2)
    short: str = Field(min_length=1)
    division: str = Field(pattern=_DIVISION)
    kind: Literal["city", "county", "district", "zone"]
    streets: list[str] = Field(min_length=1)
    sectors: list[str] = Field(default_factory=list)


class SectorSpec(_Strict):
    """One sector of the directory."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    demo_share: float = Field(ge=0, le=1)
    trades: list[str] = Field(min_length=1)


class RegionFile(_Strict):
    """region.yaml."""

    version: Literal[1]
    bureau: str = Field(min_length=2)
    bureau_short: str = Field(min_length=2)
    prefecture: str = Field(min_length=2)
    prefecture_short: str = Field(min_length=2)
    division: str = Field(pattern=_DIVISION)
    province: str = Field(min_length=2)
    counties: list[CountySpec] = Field(min_length=1)
    sectors: list[SectorSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> RegionFile:
        names = [c.name for c in self.counties]
        if len(set(names)) != len(names):
            raise ValueError("county names must be unique")
        codes = {s.code for s in self.sectors}
        if len(codes) != len(self.sectors):
            raise ValueError("sector codes must be unique")
        for county in self.counties:
            if not county.division.startswith(self.division[:4]):
                raise ValueError(
                    f"{county.name}: division {county.division} is not in {self.division}"
                )
            unknown = set(county.sectors) - codes
            if unknown:
                raise ValueError(f"{county.name}: unknown sectors {sorted(unknown)}")
        return self


def load_region(policy_dir: Path) -> Region:
    """policy_dir/region.yaml (else the shipped one), validated; ConfigurationError if bad."""
    path = policy_dir / "region.yaml"
    spec = load_yaml(path if path.exists() else DEFAULT_REGION_PATH, RegionFile)
    return Region(
        bureau=spec.bureau,
        bureau_short=spec.bureau_short,
        prefecture=spec.prefecture,
        prefecture_short=spec.prefecture_short,
        division=spec.division,
        province=spec.province,
        counties=tuple(
            County(c.name, c.short, c.division, c.kind, tuple(c.streets), tuple(c.sectors))
            for c in spec.counties
        ),
        sectors=tuple(Sector(s.code, s.name, s.demo_share, tuple(s.trades)) for s in spec.sectors),
    )


def default_region() -> Region:
    """The shipped region, read afresh (demo data and tools run without the `Policies`)."""
    return load_region(DEFAULT_REGION_PATH.parent)
