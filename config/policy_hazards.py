"""Loading the major-accident-hazard criteria by sector (hazard_criteria.yaml)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from config.policy_files import load_yaml
from domain.findings import Criterion, HazardStandard, MissingClauses

_NUMERALS = "一二三四五六七八九"
#: A clause: an item of a list standard （十五）, or an article with an optional item 第四条（三）.
CLAUSE = re.compile(r"^(?:第([一二三四五六七八九十]+)条)?(?:（([一二三四五六七八九十]+)）)?$")


def cn_number(text: str) -> int:
    """一 … 九十九 as an int (the numbering of articles and items in these standards)."""
    if "十" not in text:
        return _NUMERALS.index(text) + 1
    tens, _, units = text.partition("十")
    return (_NUMERALS.index(tens) + 1 if tens else 1) * 10 + (
        _NUMERALS.index(units) + 1 if units else 0
    )


def clause_key(clause: str) -> tuple[int, int]:
    """(article, item) of a clause, 0 where the clause names none: 第四条（三） → (4, 3)."""
    m = CLAUSE.match(clause)
    if m is None or not (m.group(1) or m.group(2)):
        raise ValueError(f"not a clause: {clause!r} (（十五） or 第四条（三）)")
    return (cn_number(m.group(1)) if m.group(1) else 0, cn_number(m.group(2)) if m.group(2) else 0)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CriterionIn(_Strict):
    """One criterion: a code, the clause of the standard, its text."""

    code: str = Field(pattern=r"^[A-Z0-9-]{3,20}$")
    clause: str = Field(min_length=2)
    text: str = Field(min_length=8)
    #: Whom the article names (冶金企业, 存在粉尘爆炸危险的工贸企业 …); empty: every enterprise.
    scope: str = ""
    #: Read in one public copy only (the file's header says which): to be confirmed.
    single_copy: bool = False

    @model_validator(mode="after")
    def _clause(self) -> CriterionIn:
        if clause_key(self.clause)[1] == 0:
            raise ValueError(f"{self.code}: a criterion cites an item, not {self.clause!r}")
        return self


class MissingIn(_Strict):
    """Clauses that could not be read: from `from` to the end of its article (or the whole
    article when `from` names none)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    start: str = Field(alias="from", min_length=2)
    reason: str = Field(min_length=4)

    @model_validator(mode="after")
    def _clause(self) -> MissingIn:
        clause_key(self.start)
        return self


class StandardIn(_Strict):
    """One 判定标准 and the sectors it applies to."""

    id: str = Field(pattern=r"^[a-z0-9-]{3,40}$")
    title: str = Field(min_length=4)
    source: str = Field(min_length=4)
    sectors: list[str] = Field(min_length=1)
    criteria: list[CriterionIn] = Field(min_length=1)
    missing: list[MissingIn] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> StandardIn:
        keys = [clause_key(c.clause) for c in self.criteria]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{self.id}: a clause is listed twice")
        for gap in self.missing:
            article, first = clause_key(gap.start)
            inside = [
                c.clause
                for c, (a, i) in zip(self.criteria, keys, strict=True)
                if a == article and i >= max(first, 1)
            ]
            if inside:
                raise ValueError(f"{self.id}: {', '.join(inside)} listed but declared missing")
        return self


class HazardCriteria(_Strict):
    """hazard_criteria.yaml."""

    version: Literal[2]
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
                    criteria={
                        c.code: Criterion(c.code, c.clause, c.text, c.scope) for c in s.criteria
                    },
                    missing=tuple(MissingClauses(m.start, m.reason) for m in s.missing),
                )
        return None


def load_hazard_criteria(policy_dir: Path) -> HazardCriteria:
    """The major-accident-hazard criteria."""
    return load_yaml(policy_dir / "hazard_criteria.yaml", HazardCriteria)
