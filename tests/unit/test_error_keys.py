"""Every error a person can read has a catalogue key in zh-CN and English (issue 10).

Walks the source: each raise of a domain error (domain/errors.py, except ConfigurationError,
which stops the process at start and is read in the operator's log) must pass a catalogue
message, `msg("<key>", …)`, whose key exists in both catalogues and whose parameters cover
every field of both templates. A raise with plain text (the legacy English sentences that a
zh-CN reader saw only as a generic message) fails here, naming the file and line.
"""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from domain import errors as domain_errors
from domain.i18n import CATALOGUES, EN, ZH

ROOT = Path(__file__).resolve().parents[2]
ROOMS = ("api", "services", "storage", "domain", "monitor", "scheduler", "config", "demo")
#: Command-line programs whose errors are printed to the terminal of the person who ran them,
#: and MQTT parsing whose English text is the technical `reason` beside a reject code (the
#: zh-CN text of a reject is `reject.<code>`, tests/unit/test_i18n_catalogue.py).
NOT_READ_IN_THE_UI = frozenset(
    {
        "scheduler/cli.py",
        "monitor/video/cli.py",
        "monitor/video/agent.py",
        "monitor/schemas.py",
    }
)
#: Domain functions that build a catalogue message from a code (their keys are checked where the
#: codes are enumerated: domain.portal.explain → portal.reject.<code>, test_i18n_catalogue).
MESSAGE_BUILDERS = frozenset({"explain"})
READABLE = {
    cls.__name__
    for cls in vars(domain_errors).values()
    if isinstance(cls, type)
    and issubclass(cls, domain_errors.SafewatchError)
    and cls is not domain_errors.ConfigurationError
}


def _error_names(tree: ast.AST) -> set[str]:
    """Local names bound to readable domain errors by `from domain.errors import …`."""
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "domain.errors"
        for alias in node.names
        if alias.name in READABLE
    }


def _fields(template: str) -> set[str]:
    return {f.split(".")[0] for _, f, _, _ in string.Formatter().parse(template) if f}


def _problems(path: Path, rel: str | None = None) -> list[str]:
    rel = rel or path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = _error_names(tree)
    out: list[str] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id not in names or not node.args:
            continue
        where = f"{rel}:{node.lineno} {node.func.id}"
        arg = node.args[0]
        if (
            isinstance(arg, ast.Call)
            and isinstance(arg.func, ast.Name)
            and arg.func.id in MESSAGE_BUILDERS
        ):
            continue
        if not (
            isinstance(arg, ast.Call)
            and isinstance(arg.func, ast.Name)
            and arg.func.id == "msg"
            and arg.args
            and isinstance(arg.args[0], ast.Constant)
            and isinstance(arg.args[0].value, str)
        ):
            out.append(f"{where}: text instead of msg('<key>', …): {ast.unparse(arg)[:80]}")
            continue
        key = arg.args[0].value
        given = {k.arg for k in arg.keywords if k.arg}
        for lang in (ZH, EN):
            template = CATALOGUES[lang].get(key)
            if template is None:
                out.append(f"{where}: no {lang} text for {key}")
            elif not _fields(template) <= given:
                out.append(f"{where}: {key} ({lang}) needs {sorted(_fields(template) - given)}")
    return out


SOURCES = [
    p
    for room in ROOMS
    for p in sorted((ROOT / room).rglob("*.py"))
    if p.relative_to(ROOT).as_posix() not in NOT_READ_IN_THE_UI
]


def test_every_raised_error_has_a_catalogue_key() -> None:
    problems = [p for path in SOURCES for p in _problems(path)]
    assert problems == [], "\n".join(problems)


def test_the_walk_finds_the_raise_sites_and_can_fail(tmp_path: Path) -> None:
    assert len(READABLE) >= 9
    sites = sum(
        1
        for path in SOURCES
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in READABLE
    )
    assert sites >= 150
    bad = tmp_path / "probe.py"
    bad.write_text(
        "from domain.errors import NotFound\nfrom domain.i18n import msg\n"
        "def f(x):\n    raise NotFound(f'thing {x} does not exist')\n"
        "def g(x):\n    raise NotFound(msg('draw.not_found'))\n",
        encoding="utf-8",
    )
    problems = _problems(bad, "probe.py")
    assert len(problems) == 3, problems
    assert "text instead of msg" in problems[0]
    assert all("needs ['draw_id']" in p for p in problems[1:])


@pytest.mark.parametrize("lang", [ZH, EN])
def test_specific_errors_say_what_to_fix_in_both_languages(lang: str) -> None:
    zh, en = CATALOGUES[ZH], CATALOGUES[EN]
    assert zh["user.self_demote"] == "管理员不能降低自己的角色或停用自己的账号"
    assert en["user.self_demote"].startswith("Administrators may not demote")
    assert "请" in zh["query.range_too_long"]
    assert CATALOGUES[lang]["auth.wrong_password"]
