"""Every code a person can read — alarm rules, reasons, states, terms, errors — renders in zh-CN.

The codes are enumerated from the domain, the policy files, the migrations and the source (never
from a hand list), so a new rule, reason or state without a catalogue entry fails here.
"""

from __future__ import annotations

import ast
import re
import string
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from config.policy_monitoring import load_monitoring_policy
from config.policy_region import default_region
from config.policy_sampling import PlanFile
from domain import errors as domain_errors
from domain.alarms import AlarmState, Rule
from domain.directory import OPERATING_STATES
from domain.draw.eligibility import EXPERT_POOL
from domain.enforcement import Outcome
from domain.enforcement import Severity as FindingSeverity
from domain.i18n import CATALOGUES, EN, ZH, Message, msg, negotiate, render
from domain.monitoring import Severity
from domain.plan import DrawMode, PublicValueSource, ShutdownPolicy
from domain.special_ops_model import GRADES, OpType
from domain.status_model import Mode
from domain.telemetry import Level
from domain.users import Role
from monitor.topics import RejectCode

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    p
    for room in ("api", "monitor", "scheduler", "domain", "storage", "config", "services", "demo")
    for p in sorted((ROOT / room).rglob("*.py"))
]
ZH_CAT = CATALOGUES[ZH]
CJK = re.compile(r"[\u3400-\u9fff]")
#: Latin tokens a zh-CN text may contain: units, gas and standard abbreviations.
ALLOWED_LATIN = frozenset(
    {"ppm", "LEL", "vol", "MQTT", "CSV", "XLSX", "JSON", "ID", "GB", "IP", "cron", "UTF"}
)


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def _state_codes() -> set[str]:
    """`term.state.<table>.<value>` for every CHECK (state|status IN (...)) in the migrations."""
    codes: set[str] = set()
    for path in sorted((ROOT / "storage" / "migrations").glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"CHECK \((state|status) IN \(([^)]*)\)\)", text):
            table = re.findall(
                r"(?:CREATE|ALTER) TABLE (?:IF NOT EXISTS )?(\w+)", text[: m.start()]
            )[-1]
            for value in re.findall(r"'([^']+)'", m.group(2)):
                codes.add(f"term.state.{table}.{value}")
    return codes


def _draw_reasons() -> set[str]:
    """Reason codes the draw produces: `add([code, "<reason>", …])` and `reason = "<reason>"`."""
    codes: set[str] = set()
    for path in sorted((ROOT / "domain" / "draw").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "add"
                and node.args
                and isinstance(node.args[0], ast.List)
                and len(node.args[0].elts) > 1
                and isinstance(node.args[0].elts[1], ast.Constant)
            ):
                codes.add(str(node.args[0].elts[1].value))
            if isinstance(node, ast.Assign):
                for target, value in _pairs(node.targets[0], node.value):
                    if target == "reason" and isinstance(value, ast.Constant) and value.value:
                        codes.add(str(value.value))
            if isinstance(node, ast.IfExp):
                for branch in (node.body, node.orelse):
                    if isinstance(branch, ast.Constant) and isinstance(branch.value, str):
                        if re.fullmatch(r"[a-z]+(_[a-z]+)+", branch.value):
                            codes.add(branch.value)
    return {f"term.draw_reason.{c}" for c in codes}


def _pairs(target: ast.expr, value: ast.expr) -> list[tuple[str, ast.expr]]:
    if isinstance(target, ast.Name):
        return [(target.id, value)]
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
        pairs = zip(target.elts, value.elts, strict=False)
        return [(t.id, v) for t, v in pairs if isinstance(t, ast.Name)]
    return []


def _event_types() -> set[str]:
    from monitor import schemas

    out: set[str] = set()
    for obj in vars(schemas).values():
        hints = getattr(obj, "__annotations__", {})
        if "type" in hints and isinstance(obj, type):
            field = obj.model_fields.get("type") if hasattr(obj, "model_fields") else None
            if field is not None:
                out.update(a for a in get_args(field.annotation) if isinstance(a, str))
    return {f"term.event.{t}" for t in out}


def _fields(model: type[BaseModel]) -> set[str]:
    """Field names of a pydantic model and of the models nested in it."""
    names: set[str] = set()
    for name, field in model.model_fields.items():
        names.add(name)
        args = [field.annotation, *get_args(field.annotation)]
        args += [x for a in get_args(field.annotation) for x in get_args(a)]
        for arg in args:
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                names |= _fields(arg)
    return names


def _used_codes() -> tuple[set[str], set[str]]:
    """Codes passed as literals to msg()/Message()/render() in the source, and f-string prefixes."""
    exact: set[str] = set()
    prefixes: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name not in {"msg", "Message", "render", "_generic"}:
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                if name == "_generic":
                    exact.add(f"error.{arg.value}")
                elif "." in arg.value:
                    exact.add(arg.value)
            elif isinstance(arg, ast.JoinedStr) and arg.values:
                head = arg.values[0]
                if isinstance(head, ast.Constant) and isinstance(head.value, str):
                    prefixes.add(head.value)
    return exact, prefixes


def enumerated_codes() -> set[str]:
    """Every code the domain, config, migrations and source say a person may read."""
    codes: set[str] = set()
    codes |= {f"term.op_type.{t.value}" for t in OpType}
    codes |= {f"term.grade.{t.value}.{g}" for t, grades in GRADES.items() for g in grades}
    codes |= {f"term.mode.{m.value}" for m in Mode}
    codes |= {f"term.level.{lv.value}" for lv in Level}
    codes |= {f"term.severity.{s.value}" for s in Severity}
    codes |= {f"term.alarm_state.{s.value}" for s in AlarmState}
    codes |= {f"error.{c.code}" for c in _subclasses(domain_errors.SafewatchError)}
    codes |= {f"term.finding_severity.{s.value}" for s in FindingSeverity}
    codes |= {f"term.finding_outcome.{o.value}" for o in Outcome}
    codes |= {f"term.plan_field.{f}" for f in _fields(PlanFile)}
    codes |= {f"term.draw_mode.{m.value}" for m in DrawMode}
    codes |= {f"term.shutdown_policy.{p.value}" for p in ShutdownPolicy}
    codes |= {f"term.public_value_source.{p.value}" for p in PublicValueSource}
    codes |= {f"term.directory_state.{s}" for s in OPERATING_STATES}
    codes |= {f"term.role.{r.value}" for r in Role}
    codes |= {f"term.pool.{EXPERT_POOL}", "term.timezone.Asia/Shanghai"}
    codes |= {f"term.sector.{s.code}" for s in default_region().sectors}
    codes |= {f"reject.{c.value}" for c in RejectCode}
    codes |= _state_codes() | _draw_reasons() | _event_types()
    codes |= _used_codes()[0]
    return codes


def test_every_enumerated_code_has_a_chinese_text() -> None:
    missing = sorted(c for c in enumerated_codes() if c not in ZH_CAT)
    assert not missing, f"zh-CN catalogue lacks: {missing}"


def test_english_has_the_same_keys() -> None:
    assert sorted(set(ZH_CAT) - set(CATALOGUES[EN])) == []
    assert sorted(set(CATALOGUES[EN]) - set(ZH_CAT)) == []


def test_every_rule_has_a_chinese_title_and_text() -> None:
    policy = load_monitoring_policy(ROOT / "config")
    assert all(CJK.search(label) for label in policy.causes.values())
    for rule in Rule:
        assert CJK.search(policy.rules[rule.value].title), rule
        own = [k for k in ZH_CAT if k == f"alarm.{rule}" or k.startswith(f"alarm.{rule}.")]
        assert own, f"no alarm.{rule}[.variant] text"


def test_fstring_codes_have_at_least_one_key() -> None:
    for prefix in _used_codes()[1]:
        assert any(k.startswith(prefix) for k in ZH_CAT), prefix


def _sample(field: str, spec: str) -> Any:
    if spec.startswith("term."):
        group = spec[5:]
        return next(k for k in ZH_CAT if k.startswith(f"term.{group}.")).split(".")[-1]
    if spec in {"dt", "date"}:
        return datetime(2026, 12, 3, 1, 30, tzinfo=UTC).isoformat()
    if spec in {"num", "val"}:
        return 12.5
    if spec == "yn":
        return True
    if spec == "list":
        return [msg("gas.toxic", name="H2S", value=12, max=10)]
    if field in {"op", "grade"}:
        return msg("op.graded", op_type="hot_work", grade=msg("term.grade.hot_work.special"))
    return "OP-1"


def _params(template: str) -> dict[str, Any]:
    return {
        f: _sample(f, spec or "")
        for _, f, spec, _ in string.Formatter().parse(template)
        if f is not None
    }


def _latin_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in ALLOWED_LATIN}


@pytest.mark.parametrize("code", sorted(ZH_CAT))
def test_chinese_text_renders_and_is_not_latin(code: str) -> None:
    template = ZH_CAT[code]
    bare = re.sub(r"\{[^}]*\}", "", template)
    # Placeholder-only templates (a composed label) must still render to Chinese.
    rendered = render(Message(code, _params(template)), ZH)
    assert "{" not in rendered
    assert code not in rendered
    assert CJK.search(rendered) or re.fullmatch(r"[\sⅠ-Ⅻ\d]*", rendered), (code, rendered)
    assert not _latin_words(bare), (code, template)
    if not code.startswith(("term.grade.",)):
        assert CJK.search(bare) or not bare.strip(), (code, template)


def test_alarm_text_in_both_languages_with_time_in_shanghai() -> None:
    m = msg(
        "alarm.permit_expired.open",
        op=msg("op.graded", op_type="hot_work", grade=msg("term.grade.hot_work.special")),
        op_id="OP-7",
        permit_no="DH-2026-001",
        valid_to=datetime(2026, 12, 3, 1, 30, tzinfo=UTC),
    )
    assert render(m) == (
        "特级动火作业OP-7的安全作业票DH-2026-001已于2026-12-03 09:30到期，作业尚未结束"
    )
    assert render(m, EN).startswith("Work permit DH-2026-001 of special-grade hot work OP-7")


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, ZH),
        ("", ZH),
        ("en-US,en;q=0.9", EN),
        ("zh-CN,zh;q=0.9,en;q=0.8", ZH),
        ("fr-FR,en;q=0.5", EN),
        ("en;q=0.4,zh;q=0.8", ZH),
        ("de", ZH),
    ],
)
def test_accept_language(header: str | None, lang: str) -> None:
    assert negotiate(header) == lang
