"""The offline `draw` and `verify-draw` commands, and the stdlib verifier agreeing with them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from domain.directory_table import enterprise_table, officer_table
from domain.draw.canonical import canonical_json
from domain.draw.synthetic import make_enterprises, make_officers
from domain.tabular_export import csv_bytes, xlsx_bytes
from scheduler.cli import register
from tests.unit.draw_support import VERIFIER

PLAN = """
plan_id: HZ-2025-03
title: 2025年3月双随机抽查
period: {label: "2025-03", start: 2025-03-01, end: 2025-03-31}
public_value:
  {kind: lottery, name: 中国福利彩票双色球, round: "2025024", read_after: 2025-03-02T21:30:00+08:00}
team: {departments: [应急管理局, 市场监管局], experts: 1}
workload_cap: 6
own_county_rule: true
"""
SECRET = "ab" * 32


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    ents, hist = make_enterprises(600, seed=3)
    offs = make_officers(12, [e.credit_code for e in ents], seed=4, experts=6)
    paths = {"plan": tmp_path / "plan.yaml", "e": tmp_path / "e.csv", "o": tmp_path / "o.xlsx"}
    paths["plan"].write_text(PLAN, encoding="utf-8")
    paths["e"].write_bytes(csv_bytes(*enterprise_table(ents, hist)))
    paths["o"].write_bytes(xlsx_bytes(*officer_table(offs)))
    return paths


def _cli(*args: str) -> tuple[int, str]:
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _draw(files: dict[str, Path], out: Path, *extra: str) -> tuple[int, str]:
    return _cli(
        "draw",
        "--plan",
        str(files["plan"]),
        "--enterprises",
        str(files["e"]),
        "--officers",
        str(files["o"]),
        "--out",
        str(out),
        "--auditor-key-file",
        str(out.parent / "auditor.key"),
        "--frozen-at",
        "2025-03-01T09:00:00+08:00",
        *([] if "--public-value" in extra else ["--public-value", "01 02 03"]),
        *extra,
    )


def test_offline_draw_is_reproducible_and_verifies(files: dict[str, Path], tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    code, output = _draw(files, first, "--secret", SECRET, "--public-value", "03 11 27")
    assert code == 0, output
    assert "commitment" in output
    assert _draw(files, second, "--secret", SECRET, "--public-value", "03 11 27")[0] == 0
    assert first.read_bytes() == second.read_bytes()
    doc = json.loads(first.read_bytes())
    assert doc["result"]["teams"]
    assert all(len(t["experts"]) == 1 for t in doc["result"]["teams"])
    code, output = _cli("verify-draw", str(first))
    assert code == 0, output
    assert output.startswith("OK")
    script = subprocess.run(
        [sys.executable, str(VERIFIER), str(first)], capture_output=True, text=True, check=False
    )
    assert script.returncode == 0
    assert script.stdout == output
    assert "3 11 27" in first.read_text(encoding="utf-8")  # the canonical spelling
    code, output = _cli("verify-draw", str(first), "--commitment", "00" * 32)
    assert code == 1
    assert "commitment" in output


def test_a_fresh_secret_when_none_is_given(files: dict[str, Path], tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert _draw(files, a)[0] == 0
    assert _draw(files, b)[0] == 0
    assert json.loads(a.read_bytes())["secret"] != json.loads(b.read_bytes())["secret"]


def test_tampered_draw_fails_naming_the_difference(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "d.json"
    assert _draw(files, out, "--secret", SECRET)[0] == 0
    doc = json.loads(out.read_bytes())
    doc["result"]["selected"][0][0] = doc["result"]["selected"][1][0]
    out.write_bytes(canonical_json(doc) + b"\n")
    code, output = _cli("verify-draw", str(out))
    assert code == 1
    assert "result.selected[0][0]" in output
    script = subprocess.run(
        [sys.executable, str(VERIFIER), str(out)], capture_output=True, text=True, check=False
    )
    assert script.returncode == 1
    assert "result.selected[0][0]" in script.stdout


def test_bad_rows_are_listed_and_refused_unless_asked(
    files: dict[str, Path], tmp_path: Path
) -> None:
    lines = files["e"].read_bytes().decode("utf-8-sig").splitlines()
    lines[5] = "Z" + lines[5][1:]  # damages the credit code of row 6
    files["e"].write_bytes("\n".join(lines).encode())
    code, output = _draw(files, tmp_path / "d.json", "--secret", SECRET)
    assert code == 2
    assert "row 6" in output
    assert "--keep-good-rows" in output
    code, output = _draw(files, tmp_path / "d.json", "--secret", SECRET, "--keep-good-rows")
    assert code == 0, output
    assert _cli("verify-draw", str(tmp_path / "d.json"))[0] == 0


def test_clear_errors_for_bad_plan_and_secret(files: dict[str, Path], tmp_path: Path) -> None:
    code, output = _draw(files, tmp_path / "d.json", "--secret", "xyz")
    assert code == 2
    assert "64" in output
    files["plan"].write_text(PLAN.replace("workload_cap: 6", "workload_cap: 0"), encoding="utf-8")
    code, output = _draw(files, tmp_path / "d.json")
    assert code == 2
    assert "workload_cap" in output
    code, output = _cli("verify-draw", str(tmp_path / "missing.json"))
    assert code == 2


def test_the_readme_commands_draw_and_verify_the_examples(tmp_path: Path) -> None:
    """Runs exactly the README's lines (repository paths linked into a scratch directory)."""
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- draw-example -->")[1].split("<!-- /draw-example -->")[0]
    lines = [ln for ln in block.splitlines() if ln and not ln.startswith("```")]
    assert [ln.split()[1] for ln in lines] == ["draw", "verify-draw", "-I", "draw-reveal"]
    for name in ("examples", "domain"):
        (tmp_path / name).symlink_to(root / name)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    outputs = []
    for line in lines:
        done = subprocess.run(
            ["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        outputs.append(done.stdout)
    assert outputs[1].startswith("OK: CJ-2025-03 2025-03 re-derives (safewatch-draw/2)")
    assert outputs[1] == outputs[2]
    assert "执法人员02" in outputs[3]  # the notary sees who is behind each pseudonym
    published = (tmp_path / "draw.json").read_text(encoding="utf-8")
    assert "执法人员" not in published
    assert "新0000002" not in published
    assert "正在立案调查" not in published
