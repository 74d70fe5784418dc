"""Every credit code shown to integrators (OpenAPI examples in api/, docs, README) passes its own
check character (issue 17: the OpenAPI example failed it)."""

from __future__ import annotations

import re
from pathlib import Path

from domain.credit_code import credit_code_problem

ROOT = Path(__file__).resolve().parents[2]
#: Shown on purpose as refused (docs/protocol.md, the check-character example).
REFUSED_EXAMPLES = frozenset({"913301020000000018"})
CODE = re.compile(r"(?<![0-9A-Z])[0-9][0-9A-HJ-NPQRTUWXY]{17}(?![0-9A-Z])")


def test_every_example_credit_code_is_valid() -> None:
    files = [*ROOT.joinpath("api").rglob("*.py"), *ROOT.joinpath("docs").rglob("*.md")]
    files.append(ROOT / "README.md")
    bad = []
    for path in files:
        for code in set(CODE.findall(path.read_text(encoding="utf-8"))):
            if code.isdigit() and not code.startswith(("91", "92", "93", "12", "51", "52", "53")):
                continue  # long numbers that are not codes
            problem = credit_code_problem(code)
            if problem is not None and code not in REFUSED_EXAMPLES:
                bad.append(f"{path.relative_to(ROOT)}: {code}: {problem}")
    assert not bad, "\n".join(bad)
