"""One verifier, two packagings: the stdlib script run as `python3 -I verifier.py` and
`safewatch verify-draw` give the same verdict and the same first problem on a generated corpus of
valid, invalid (self-consistent but breaking a validity rule) and tampered documents; the public
value is canonical, so spellings cannot choose among outcomes."""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from domain.draw import verifier
from domain.draw.canonical import canonical_json
from domain.plan import Stratum, TeamRule
from scheduler.cli import register
from tests.unit.draw_support import (
    DEPTS,
    VERIFIER,
    code,
    document,
    enterprises,
    random_world,
    rules,
    run,
)

Doc = dict[str, Any]


def _valid(seed: int) -> bytes:
    """An engine-made v2 draw of a random world; every third has a `|` in a stratum's sector."""
    ents, history, offs, _prior = random_world(seed)
    rng = random.Random(seed)
    strata = (Stratum("*", "red", "*", "1", maximum=3), Stratum("*", "*", "*", "0.4", minimum=1))
    if seed % 3 == 0:
        ents = [
            replace(e, sector="工贸|冶金") if i % 2 else e for i, e in enumerate(ents)
        ]  # the plan loader accepts a `|` in a sector; ids are matched by fields, never split
        strata = (Stratum("工贸|冶金", "*", "*", "1", priority=1), *strata)
    r = rules(
        strata=strata,
        own_county_rule=rng.random() < 0.5,
        workload_cap=rng.randint(1, 3),
        team=rng.choice([TeamRule(2, DEPTS, (1, 1), 0), TeamRule(3, DEPTS, (2, 1), 1)]),
    )
    return document(run(r, ents, offs, history=history, public_value=f"{seed} 7"))


def _rederived(doc: Doc) -> bytes:
    """Self-consistent bytes: every derived member recomputed, validity rules not applied."""
    return verifier.canon(verifier.derive(doc, doc["algorithm"])) + b"\n"


def _invalid(base: bytes) -> list[tuple[str, bytes]]:
    """The cases the stdlib script used to accept and verify-draw refused, and the new rules."""
    doc = json.loads(base)
    edits: list[tuple[str, Callable[[Doc], None]]] = [
        ("min > max", lambda d: d["rules"]["strata"][0].update(min=5, max=2)),
        ("workload cap 0", lambda d: d["rules"].update(workload_cap=0)),
        ("impossible date", lambda d: d["rules"].update(period_end="2025-02-30")),
        ("negative cooldown", lambda d: d["rules"].update(cooldown_days=-1)),
        ("unknown shutdown policy", lambda d: d["rules"].update(shutdown_policy="sometimes")),
        ("NUL in a code", lambda d: d["enterprises"]["rows"][0].__setitem__(0, "A\x00B")),
        ("'false' as a boolean", lambda d: d["enterprises"]["rows"][0].__setitem__(7, "false")),
        ("extra key", lambda d: d.update(note="x")),
        ("extra rules key", lambda d: d["rules"].update(extra=1)),
        ("integer beyond 2^53", lambda d: d["rules"].update(yearly_cap=2**53 + 1)),
        ("commitment not a hash", lambda d: d.update(commitment="ab" * 31)),
        ("free-text exclusion", lambda d: d["rules"].update(excluded=[["X", "正在立案调查"]])),
        ("code twice in excluded", lambda d: d["rules"].update(excluded=[["X", "other"]] * 2)),
        ("period not a window", lambda d: d.update(period="2025-03b")),
        ("read before the freeze", lambda d: d["public_source"].update(read_after=d["frozen_at"])),
        ("non-canonical public value", lambda d: d.update(public_value="07 12")),
        ("repeat without reason", lambda d: d.update(attempt=2)),
        ("control char in a name", lambda d: d["enterprises"]["rows"][0].__setitem__(1, "a\nb")),
        ("quotas do not sum", lambda d: d["rules"]["team"].update(size=5)),
        ("unknown source kind", lambda d: d["public_source"].update(kind="coin", format="coin")),
    ]
    out = []
    for name, edit in edits:
        changed = copy.deepcopy(doc)
        edit(changed)
        try:
            data = _rederived(changed)
        except (ValueError, KeyError, TypeError, IndexError, ArithmeticError):
            data = canonical_json(changed) + b"\n"  # cannot even be derived: as written
        out.append((name, data))
    return out


def _tampered(base: bytes, rng: random.Random) -> list[bytes]:
    doc = json.loads(base)
    picks = []
    for _ in range(3):
        changed = copy.deepcopy(doc)
        if changed.get("result", {}).get("selected"):
            row = rng.choice(changed["result"]["selected"])
            row[0] = "91" + str(rng.randrange(10**15)).zfill(16)
        else:
            changed["hashes"]["rules"] = f"{rng.randrange(16**64):064x}"
        picks.append(canonical_json(changed) + b"\n")
    pos = rng.randrange(len(base))
    picks.append(base[:pos] + bytes([(base[pos] + 1) % 256]) + base[pos + 1 :])
    return picks


def _corpus() -> list[tuple[str, bytes, bool]]:
    rng = random.Random(12)
    corpus: list[tuple[str, bytes, bool]] = []
    for seed in range(40):
        base = _valid(seed)
        corpus.append((f"valid {seed}", base, True))
        if seed < 8:
            corpus += [(f"invalid {seed}: {n}", d, False) for n, d in _invalid(base)]
        corpus += [(f"tampered {seed}", d, False) for d in _tampered(base, rng)]
    fixtures = Path(__file__).parents[1] / "fixtures" / "draw_v1"
    for path in sorted(fixtures.glob("*.json")):
        corpus.append((f"v1 {path.name}", path.read_bytes(), True))
        corpus += [
            (f"v1 tampered {path.name}", d, False) for d in _tampered(path.read_bytes(), rng)
        ]
    return corpus


#: Runs the served script as `__main__` once per document inside ONE isolated interpreter
#: (`python3 -I`: no site-packages, no project on the path), printing exit code and first line.
DRIVER = """
import contextlib, io, json, runpy, sys
script, paths = sys.argv[1], sys.argv[2:]
for path in paths:
    out = io.StringIO()
    sys.argv = [script, path]
    with contextlib.redirect_stdout(out):
        try:
            runpy.run_path(script, run_name="__main__")
            code = 0
        except SystemExit as exc:
            code = exc.code
    print(json.dumps([code, out.getvalue().splitlines()[0]]))
"""


def test_script_and_verify_draw_agree_on_every_document(tmp_path: Path) -> None:
    corpus = _corpus()
    assert len(corpus) >= 200
    assert sum(ok for _, _, ok in corpus) >= 40
    assert any("|" in json.dumps(json.loads(d)["rules"], ensure_ascii=False) for _, d, _ in corpus)
    paths = []
    for i, (_, data, _) in enumerate(corpus):
        paths.append(tmp_path / f"d{i}.json")
        paths[-1].write_bytes(data)
    script = subprocess.run(
        [sys.executable, "-I", "-c", DRIVER, str(VERIFIER), *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    verdicts = [json.loads(line) for line in script.stdout.splitlines()]
    assert len(verdicts) == len(corpus), script.stderr
    app = typer.Typer()
    register(app)
    cli = CliRunner()
    for (name, _, valid), path, (status, first) in zip(corpus, paths, verdicts, strict=True):
        ours = cli.invoke(app, ["verify-draw", str(path)])
        assert status == ours.exit_code, (name, first, ours.output)
        assert first == ours.output.splitlines()[0], name
        assert (status == 0) == valid, (name, first)


def test_the_frozen_record_published_before_the_draw_is_checked(tmp_path: Path) -> None:
    drawn = run()
    draw_file, frozen_file = tmp_path / "draw.json", tmp_path / "frozen.json"
    draw_file.write_bytes(document(drawn))
    frozen_file.write_bytes(drawn.frozen.document_bytes() + b"\n")
    other = run(ents=enterprises(13))
    wrong = tmp_path / "other-frozen.json"
    wrong.write_bytes(other.frozen.document_bytes() + b"\n")
    for frozen, expected in ((frozen_file, 0), (wrong, 1)):
        script = subprocess.run(
            [sys.executable, "-I", str(VERIFIER), str(draw_file), "--frozen", str(frozen)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert script.returncode == expected, script.stdout
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["verify-draw", str(draw_file), "--frozen", str(wrong)])
    assert result.exit_code == 1
    assert "frozen record" in result.output


@pytest.mark.parametrize(
    "spelling",
    [
        "07 12 19 23 31 + 05",
        "7,12,19,23,31,5",
        "０７　１２　１９　２３　３１＋０５",
        "07-12-19-23-31|05",
    ],
)
def test_every_spelling_of_one_public_value_gives_one_seed(spelling: str) -> None:
    assert run(public_value=spelling).seed == run().seed
    assert run(public_value=spelling).public_value == "7 12 19 23 31 5"


def test_a_non_canonical_public_value_fails_verification() -> None:
    doc = json.loads(document(run()))
    doc["public_value"] = "07 12 19 23 31 + 05"
    data = _rederived(doc)  # even with every derived byte recomputed for that spelling
    problem = verifier.verify(data)
    assert problem is not None
    assert "canonical" in problem
    beacon = replace(run().frozen.record.public_source, kind="beacon")
    hexed = run(
        record=replace(run().frozen.record, public_source=beacon), public_value="AB" * 32
    ).public_value
    assert hexed == "ab" * 32
    assert code(1) in {c for c, _, _ in run().selected} | {code(1)}
