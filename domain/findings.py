"""清单式执法 (measure 11): a finding names a checklist item, states a legal basis that is one of
the item's articles (a free-text basis only with a reason, and flagged), its cause, the remedial
measure and a deadline, each long enough to be a real sentence; a 重大事故隐患 cites a criterion
of the standard for the enterprise's sector. Refused field by field in zh-CN."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from domain.advisor import MITIGATIONS, Harm
from domain.enforcement import ChecklistItem, Severity
from domain.errors import ValidationFailed
from domain.i18n import Message, msg, render

#: Minimum lengths of what a person writes (characters after trimming) — bureau interpretation
#: of "a real sentence": a cause names who/what and how, a measure what is to be done.
MIN_CHARS = {"legal_basis": 4, "cause": 8, "measure": 8, "basis_reason": 10, "criterion_text": 10}
_NUM = "零〇一二三四五六七八九十百千"
#: An article reference, with the law's name when it is written before it ("、第…条" reuses the
#: last law named).
_REF = re.compile(
    rf"(?:([\u4e00-\u9fff0-9]+?(?:法|条例|规定|办法|令)))?\s*(第[{_NUM}]+条(?:第[{_NUM}]+款)?)"
)


@dataclass(frozen=True, slots=True)
class Criterion:
    """One criterion of a 重大事故隐患判定标准."""

    code: str
    clause: str
    text: str
    scope: str = ""  # whom the article names (冶金企业 …); empty: every enterprise of the sector


@dataclass(frozen=True, slots=True)
class MissingClauses:
    """Clauses of a standard the config could not list (from `start` to its article's end)."""

    start: str
    reason: str


@dataclass(frozen=True, slots=True)
class HazardStandard:
    """The 判定标准 for a sector, with its source and the config file's version."""

    id: str
    title: str
    source: str
    version: int
    criteria: Mapping[str, Criterion]
    missing: tuple[MissingClauses, ...] = ()


@dataclass(frozen=True, slots=True)
class FindingInput:
    """A finding as the officer submits it on the workbench."""

    item_code: str
    legal_basis: str
    cause: str
    measure: str
    deadline: date | None
    severity: Severity
    harm: Harm | None = None
    basis_reason: str = ""
    hazard_criterion: str | None = None
    criterion_text: str = ""
    corrected_on_site: bool = False
    accident: bool = False
    illegal_production: bool = False
    bad_social_impact: bool = False
    mitigations: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Accepted:
    """What validation adds: the item, whether the basis is free text, the grading."""

    item: ChecklistItem
    basis_free_text: bool
    hazard_standard: str | None  # "<source> v<version>"
    hazard_criterion: str | None  # code, or "free:" + text when no listed criterion fits


def _norm(text: str) -> str:
    """Compare texts without spaces, book-title marks or the state's full name."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+|《|》|中华人民共和国", "", text)


def articles(legal_basis: str) -> frozenset[str]:
    """The article references of a legal basis, normalised: {"安全生产法第四十一条第二款", …}."""
    found: set[str] = set()
    law: str | None = None
    for m in _REF.finditer(_norm(legal_basis)):
        law = m.group(1) or law
        if law is not None:
            found.add(law + m.group(2))
    return frozenset(found)


def basis_matches(submitted: str, item: ChecklistItem) -> bool:
    """Whether the stated basis is the item's basis or cites one of its articles."""
    text = _norm(submitted)
    return text == _norm(item.legal_basis) or any(a in text for a in articles(item.legal_basis))


def listed_items(source: str, list_codes: Iterable[str]) -> frozenset[str] | None:
    """The checklist items a finding on an inspection may name: on a drawn inspection (双随机抽查)
    only those its inspection-item list (抽查事项清单) links to — the enterprise was told what would
    be checked; None (the whole catalogue) on one made by hand (重点、举报、复查)."""
    return frozenset(list_codes) if source == "draw" else None


def validate(
    finding: FindingInput,
    *,
    catalogue: Mapping[str, ChecklistItem],
    standard: HazardStandard | None,
    today: date,
    listed: frozenset[str] | None = None,
) -> Accepted:
    """Accept a complete finding or raise ValidationFailed listing each field's problem; `listed`
    (see `listed_items`) restricts the item to a drawn inspection's list."""
    problems: dict[str, Message] = {}
    item = catalogue.get(finding.item_code)
    if item is None:
        problems["item_code"] = msg("finding.item_unknown", item=finding.item_code)
    elif listed is not None and item.code not in listed:
        problems["item_code"] = msg("finding.item_not_on_list", item=item.code)
    for name in ("legal_basis", "cause", "measure"):
        value = str(getattr(finding, name) or "").strip()
        if not value:
            problems[name] = msg("finding.required", field=name)
        elif len(value) < MIN_CHARS[name]:
            problems[name] = msg("finding.too_short", field=name, min=MIN_CHARS[name])
    free_text = False
    if (
        item is not None
        and "legal_basis" not in problems
        and not basis_matches(finding.legal_basis, item)
    ):
        free_text = True
        if len(finding.basis_reason.strip()) < MIN_CHARS["basis_reason"]:
            problems["legal_basis"] = msg(
                "finding.basis_not_listed", item=item.code, basis=item.legal_basis
            )
    if finding.deadline is None and not finding.corrected_on_site:
        problems["deadline"] = msg("finding.deadline_required")
    elif finding.deadline is not None and finding.deadline < today:
        problems["deadline"] = msg("finding.deadline_past", deadline=finding.deadline)
    unknown = sorted(set(finding.mitigations) - set(MITIGATIONS))
    if unknown:
        problems["mitigations"] = msg("finding.mitigation_unknown", cases=", ".join(unknown))
    criterion: str | None = None
    if finding.severity is Severity.MAJOR_HAZARD:
        code = (finding.hazard_criterion or "").strip()
        if standard is not None and code in standard.criteria:
            criterion = code
        elif len(finding.criterion_text.strip()) >= MIN_CHARS["criterion_text"]:
            criterion = "free:" + finding.criterion_text.strip()
        else:
            problems["hazard_criterion"] = (
                msg("finding.criterion_required", standard=f"{standard.title}（{standard.source}）")
                if standard is not None
                else msg("finding.criterion_text_required")
            )
    elif finding.hazard_criterion:
        problems["hazard_criterion"] = msg("finding.criterion_not_major")
    if problems:
        items = [problems[name] for name in sorted(problems)]
        raise ValidationFailed(
            msg("finding.refused", problems=items),
            details={name: render(why) for name, why in problems.items()},
        )
    assert item is not None
    return Accepted(
        item=item,
        basis_free_text=free_text,
        hazard_standard=(
            f"{standard.source} v{standard.version}"
            if standard is not None and criterion is not None and not criterion.startswith("free:")
            else None
        ),
        hazard_criterion=criterion,
    )
