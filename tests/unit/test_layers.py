"""The rooms keep their doors: api/ imports no scheduler/ or monitor/ (but monitor.video), and
only services/changes.py writes audit records and live changes (no exceptions left)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE_ROOMS = ("api", "monitor", "scheduler", "services", "domain", "storage", "config", "demo")

#: api/ modules still importing scheduler/ or monitor/ (being moved into services/ and domain/).
LEGACY_API_IMPORTS: frozenset[str] = frozenset()
WRITERS = {("audit", "record"), ("live", "publish_change"), ("live", "publish_changes")}


def _modules(*rooms: str) -> list[Path]:
    return sorted(p for room in rooms for p in (ROOT / room).rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _writes(tree: ast.AST) -> bool:
    """Calls audit.record / live.publish_change(s), or imports those functions by name."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and (owner.id, node.func.attr) in WRITERS:
                return True
        if isinstance(node, ast.ImportFrom) and node.module in ("storage.audit", "storage.live"):
            room = node.module.split(".")[1]
            if any((room, a.name) in WRITERS for a in node.names):
                return True
    return False


def _direct_writers() -> set[str]:
    """Modules other than services/changes.py (and the two storage modules it calls) that
    write audit_log or live_changes themselves."""
    return {
        _rel(p)
        for p in _modules(*CODE_ROOMS)
        if _rel(p) not in ("services/changes.py", "storage/live.py", "storage/audit.py")
        and _writes(ast.parse(p.read_text(encoding="utf-8")))
    }


def test_only_services_changes_writes_audit_and_live_changes() -> None:
    writers = _direct_writers()
    assert not writers, (
        f"{sorted(writers)} write audit_log/live_changes directly. Put the use case in services/ "
        "and record both with services.changes.record(conn, actor=…, audit_entry=Audit(…), "
        "changes=[…]) (system work without audit: services.changes.announce); see "
        "docs/architecture.md, 'How to write a use case'."
    )


def test_the_writer_check_sees_writes() -> None:
    """Each way of writing directly is caught (a called module function, a name imported)."""
    caught = [
        "await audit.record(conn, principal=p, action='x', target='y')",
        "await live.publish_change(conn, kind='video', enterprise_id=e, payload={})",
        "await live.publish_changes(conn, [])",
        "from storage.live import publish_change",
        "from storage.audit import record",
    ]
    assert all(_writes(ast.parse(code)) for code in caught)
    assert not _writes(ast.parse("await record(conn, actor=a, audit_entry=e, changes=c)"))
    assert not _writes(ast.parse("await live.changes_since(conn, after=0)"))


def test_api_imports_neither_scheduler_nor_monitor_but_video() -> None:
    offenders = set()
    for path in _modules("api"):
        for name in _imported(ast.parse(path.read_text(encoding="utf-8"))):
            room = name.split(".")[0]
            if room in ("scheduler", "monitor") and not name.startswith("monitor.video"):
                offenders.add(_rel(path))
    new = offenders - LEGACY_API_IMPORTS
    assert not new, (
        f"{sorted(new)} import scheduler/ or monitor/: call a use case in services/ or a rule "
        "in domain/ instead (api/ may import monitor.video only)"
    )
    moved = LEGACY_API_IMPORTS - offenders
    assert not moved, f"{sorted(moved)} are clean now: drop them from LEGACY_API_IMPORTS"


def test_no_module_caches_policy_files() -> None:
    """Policies are built once in safewatch.py and passed in, never cached per module."""
    offenders = []
    for path in _modules(*CODE_ROOMS):
        if _rel(path) == "config/settings.py":  # caches the settings object, not a policy file
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = _imported(tree)
        reads_policy = any(n.startswith("config.policy") and ".load" in n for n in names)
        caches = any("lru_cache" in n or n.endswith(".cache") for n in names)
        if (reads_policy and caches) or "cached_policy" in path.read_text(encoding="utf-8"):
            offenders.append(_rel(path))
    assert not offenders, (
        f"{offenders} cache policy files: take the `Policies` passed in (app.state.policies / "
        "PoliciesDep, JobContext.policies, the processor's policy) instead"
    )


SQL = re.compile(
    r"^\s*(SELECT|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|WITH\s+\w+\s+AS|CREATE\s+|"
    r"ALTER\s+|DROP\s+|TRUNCATE\s|LOCK\s+TABLE|LISTEN\s|NOTIFY\s|COPY\s)",
)


def _sql_strings(tree: ast.AST) -> list[int]:
    """Lines of string constants that read as SQL statements (docstrings excluded)."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and SQL.match(node.value)
    ]


def test_no_sql_outside_storage() -> None:
    """storage/ is the only code that talks SQL (tests and benchmarks may seed with it)."""
    found = {
        _rel(path): lines
        for path in _modules(*(r for r in CODE_ROOMS if r != "storage"))
        if (lines := _sql_strings(ast.parse(path.read_text(encoding="utf-8"))))
    }
    found.update(
        {"safewatch.py": lines}
        if (lines := _sql_strings(ast.parse((ROOT / "safewatch.py").read_text(encoding="utf-8"))))
        else {}
    )
    assert not found, (
        f"SQL outside storage/ (file: lines): {found}. Put the statement in a storage/ module "
        "(a module constant with named parameters) and call its function."
    )


def test_the_sql_check_sees_sql() -> None:
    tree = ast.parse('Q = """\nSELECT 1 FROM t"""\nX = "Select a colour"\n')
    assert _sql_strings(tree) == [1]
