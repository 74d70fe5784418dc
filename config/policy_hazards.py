"""Loading the major-accident-hazard criteria by sector (hazard_criteria.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from config.policy_files import load_yaml
from domain.findings import Criterion, HazardStandard


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CriterionIn(_Strict):
    """One criterion: a code, the clause of the standard, its text."""

    code: str = Field(pattern=r"^[A-Z0-9-]{3,20}$")
    clause: str = Field(min_length=2)
    text: str = Field(min_length=8)


class StandardIn(_Strict):
    """One 判定标准 and the sectors it applies to."""

    id: str = Field(pattern=r"^[a-z0-9-]{3,40}$")
    title: str = Field(min_length=4)
    source: str = Field(min_length=4)
    sectors: list[str] = Field(min_length=1)
    criteria: list[CriterionIn] = Field(min_length=1)


class HazardCriteria(_Strict):
    """hazard_criteria.yaml."""

    version: Literal[1]
    standards: list[StandardIn] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> HazardCriteria:
        codes = [c.code for s in self.standards for c in s.criteria]
        sectors = [x for s in self.standards for x in s.sectors]
        for what, values in (("criterion codes", codes), ("sectors", sectors)):
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"duplicate {what}: {', '.join(dupes)}")
        return self

    def for_sector(self, sector: str) -> HazardStandard | None:
        """The standard that applies to a sector, or None when this file has none for it."""
        for s in self.standards:
            if sector in s.sectors:
                return HazardStandard(
                    id=s.id,
                    title=s.title,
                    source=s.source,
                    version=self.version,
                    criteria={c.code: Criterion(c.code, c.clause, c.text) for c in s.criteria},
                )
        return None


def load_hazard_criteria(policy_dir: Path) -> HazardCriteria:
    """The major-accident-hazard criteria."""
    return load_yaml(policy_dir / "hazard_criteria.yaml", HazardCriteria)
