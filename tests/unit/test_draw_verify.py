"""Same inputs give a byte-identical draw; any change to a draw document makes verification fail."""

from __future__ import annotations

import importlib.util
import json
import random
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from domain.directory import InspectionHistory
from domain.draw import commitment_of, draw, freeze, verify_bytes
from domain.draw.canonical import canonical_json
from domain.draw.snapshot import enterprise_rows, officer_rows
from domain.plan import DrawMode, Stratum, TeamRule
from tests.unit.draw_support import (
    DEPTS,
    RECORD,
    VERIFIER,
    code,
    document,
    enterprises,
    officers,
    random_world,
    rules,
    run,
    secret_for,
)


def _stdlib_verifier() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sw_verifier", VERIFIER)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


STDLIB = _stdlib_verifier()


def test_same_inputs_give_byte_identical_documents() -> None:
    first = document(run())
    again = document(run(ents=list(reversed(enterprises())), offs=list(reversed(officers()))))
    assert first == again
    assert verify_bytes(first) is None
    assert STDLIB.verify(first) is None


def test_document_is_canonical_json_with_all_sections() -> None:
    data = document(run())
    doc = json.loads(data)
    assert data == canonical_json(doc) + b"\n"
    assert set(doc) == {
        "algorithm",
        "plan_id",
        "period",
        "commitment",
        "hashes",
        "rules",
        "enterprises",
        "officers",
        "eligibility",
        "attempt",
        "repeat",
        "frozen_at",
        "public_source",
        "witnesses",
        "secret",
        "witness_secrets",
        "public_value",
        "seed",
        "result",
    }
    assert doc["algorithm"] == "safewatch-draw/2"
    assert doc["result"]["status"] == "complete"


@pytest.mark.parametrize(
    "changed",
    [
        {"secret": secret_for(1)},
        {"public_value": "07 12 19 23 31 + 06"},
        {"plan_id": "TEST-2"},
        {"period": "2025-03-01/2025-03-30", "rules_": rules(period_end=date(2025, 3, 30))},
        {"rules_": rules(cooldown_days=30)},
        {"rules_": rules(workload_cap=4)},
        {"ents": enterprises(13)},
        {"offs": officers(5)},
        {"history": {code(1): InspectionHistory(code(1), 1, None)}},
    ],
    ids=lambda c: next(iter(c)),
)
def test_changing_any_input_changes_the_document(changed: dict[str, Any]) -> None:
    base = document(run())
    other = document(run(**changed))
    assert other != base
    assert verify_bytes(other) is None


def _mutations(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of leaves (a sample per list) of a parsed document."""
    if isinstance(doc, dict):
        return [p for k, v in doc.items() for p in _mutations(v, (*path, k))]
    if isinstance(doc, list):
        picks = sorted({0, len(doc) // 2, len(doc) - 1}) if doc else []
        out = [p for i in picks for p in _mutations(doc[i], (*path, i))]
        return out or [path]
    return [path]


def _mutate(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x" if value else "x"
    if value is None:
        return "2025-01-01"
    if isinstance(value, list):
        return [*value, value[0]] if value else ["x"]
    raise AssertionError(value)


def test_changing_any_field_of_the_document_fails_both_verifiers() -> None:
    drawn = run(offs=officers(4, conflicts={1: [code(1)]}))
    data = document(drawn)
    doc = json.loads(data)
    paths = _mutations(doc)
    assert len(paths) > 100
    for path in paths:
        copy = json.loads(data)
        target = copy
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = _mutate(target[path[-1]])
        tampered = canonical_json(copy) + b"\n"
        ours, theirs = verify_bytes(tampered), STDLIB.verify(tampered)
        assert ours is not None, path
        assert theirs is not None, path


def test_random_byte_changes_fail_both_verifiers() -> None:
    data = document(run())
    rng = random.Random(7)
    for _ in range(300):
        pos = rng.randrange(len(data))
        tampered = data[:pos] + bytes([(data[pos] + rng.randrange(1, 256)) % 256]) + data[pos + 1 :]
        assert verify_bytes(tampered) is not None
        assert STDLIB.verify(tampered) is not None
    assert verify_bytes(data.rstrip(b"\n")) is not None
    assert STDLIB.verify(data + b"\n") is not None


def test_first_difference_is_named() -> None:
    data = document(run())
    doc = json.loads(data)
    doc["result"]["teams"][0]["leader"] = "O999"
    problem = verify_bytes(canonical_json(doc) + b"\n")
    assert problem is not None
    assert problem.startswith("result.teams[0].leader")
    doc = json.loads(data)
    doc["enterprises"]["rows"][0][1] = "改名"
    problem = verify_bytes(canonical_json(doc) + b"\n")
    assert problem is not None
    assert problem.startswith("hashes.enterprises")
    doc = json.loads(data)
    doc["secret"] = secret_for(5).hex()
    problem = verify_bytes(canonical_json(doc) + b"\n")
    assert problem is not None
    assert problem.startswith("commitment")


def test_frozen_record_verifies_before_the_draw() -> None:
    drawn = run()
    frozen = drawn.frozen.document_bytes() + b"\n"
    assert verify_bytes(frozen) is None
    assert STDLIB.verify(frozen) is None
    doc = json.loads(frozen)
    assert "secret" not in doc
    assert "result" not in doc


def test_stdlib_verifier_script_exit_codes(tmp_path: Any) -> None:
    data = document(run(rules_=replace(rules(), own_county_rule=True)))
    good = tmp_path / "draw.json"
    good.write_bytes(data)
    ok = subprocess.run(
        [sys.executable, str(VERIFIER), str(good)], capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0, ok.stdout
    assert "commitment" in ok.stdout
    bad = tmp_path / "bad.json"
    doc = json.loads(data)
    doc["result"]["status"] = "changed"
    bad.write_bytes(canonical_json(doc) + b"\n")
    fail = subprocess.run(
        [sys.executable, str(VERIFIER), str(bad)], capture_output=True, text=True, check=False
    )
    assert fail.returncode == 1
    assert "result.status" in fail.stdout
    assert len(VERIFIER.read_text(encoding="utf-8").splitlines()) <= 640  # v1 and v2


def test_stdlib_verifier_agrees_on_many_random_draws() -> None:
    for seed in range(120):
        ents, history, offs, prior = random_world(seed)
        rng = random.Random(seed)
        mode = DrawMode.FIXED if seed % 7 == 0 else DrawMode.RANDOM
        fixed = tuple(sorted(e.credit_code for e in ents[::2])) if mode is DrawMode.FIXED else ()
        r = replace(
            rules(),
            mode=mode,
            fixed_list=fixed,
            own_county_rule=rng.random() < 0.5,
            workload_cap=rng.randint(1, 4),
            cooldown_days=rng.choice([0, 30, 90]),
            team=rng.choice(
                [TeamRule(2, DEPTS, (1, 1), 0), TeamRule(3, DEPTS, (2, 1), 1),
                 TeamRule(2, DEPTS[:1], (2,), 1)]
            ),
            strata=(Stratum("非煤矿山", "*", "*", "0.5"), Stratum("*", "red", "*", "1", maximum=3),
                    Stratum("*", "*", "*", "0.3", minimum=1)),
            counties=("330102", "330103") if seed % 5 == 0 else (),
        )  # fmt: skip
        secret = secret_for(seed)
        fz = freeze(
            plan_id="RANDOM",
            period="2025-03",
            rules=r,
            enterprise_rows=enterprise_rows(ents, history),
            officer_rows=officer_rows(offs, prior),
            commitment=commitment_of(secret),
            record=RECORD,
        )
        data = draw(fz, secret=secret, public_value=str(seed)).document_bytes() + b"\n"
        assert verify_bytes(data) is None
        assert STDLIB.verify(data) is None, seed


def test_published_version_1_documents_keep_verifying_under_version_1(tmp_path: Any) -> None:
    """Documents written by the version-1 engine (kept as fixtures) still verify, with both
    packagings; a version-1 document altered in any rule fails."""
    fixtures = sorted((Path(__file__).parents[1] / "fixtures" / "draw_v1").glob("*.json"))
    assert len(fixtures) >= 4
    for path in fixtures:
        data = path.read_bytes()
        assert json.loads(data)["algorithm"] == "safewatch-draw/1"
        assert verify_bytes(data) is None, path.name
        script = subprocess.run(
            [sys.executable, "-I", str(VERIFIER), str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert script.returncode == 0, script.stdout
    frozen = (fixtures[0].parent / "frozen.json").read_bytes()
    drawn = (fixtures[0].parent / "world17.json").read_bytes()
    assert verify_bytes(drawn, frozen) is None
    other = (fixtures[0].parent / "world5.json").read_bytes()
    assert "differs from the frozen record" in (verify_bytes(other, frozen) or "")
