"""Storage conventions (issue 9): keyword-only arguments after the connection, and query rows
read by name (`class_row` into a dataclass, `kwargs_row`, `dict_row`, `scalar_row` for one
column), never by position.

The checker is static (`ast`) and works per module:

(a) A public function (name not starting with `_`) whose first parameter is a connection, cursor
    or pool (by name: `conn`, `cur`, `pool`, …, or by annotation: `AsyncConnection`, `Cursor`,
    `AsyncConnectionPool`, …) may have no further positional parameters: everything after the
    connection goes after `*`.

(b) No positional read of a fetched row. Within one function it tracks, without regard to control
    flow, which expressions are
      - a cursor: `x.execute(…)`, `x.cursor(…)`, `x.stream(…)` (awaited or not), a name bound to
        one (`async with conn.cursor() as cur`, `cur = await conn.execute(…)`), or a parameter
        named `cur`/`cursor`;
      - rows: `….fetchall()`, `….fetchmany()`, a name bound to them, a slice of rows;
      - a row: `….fetchone()` (also `… or {}`), `rows[i]`, the loop variable of a `for`/`async
        for`/comprehension over rows or over a cursor, and a name bound to any of these;
    and flags `row[<int literal>]` (also negative) and unpacking a row by position (`a, b = row`,
    `for a, b in rows`, `{a: b for a, b in await cur.fetchall()}`, `async for a, b in cur`,
    `f(*row)`, `list(row)`, `tuple(row)`, `dict(rows)` of pairs).
    Across functions of one module: a module-level function called in the same module with a row
    as a positional argument has that parameter treated as a row (`_op(r) for r in rows` makes
    `def _op(r): r[0]` a violation).

What it does not see (so review still matters): rows passed across modules, rows kept in
attributes or containers other than a plain name, and names reused for something else in the
same function (those are reported too: rename the variable). Unpacking of a `row` that is a
dataclass is impossible anyway (it is not iterable), so flagged unpacking is always positional.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STORAGE = ROOT / "storage"

#: storage modules that still break a rule: being converted (issue 9). This list only shrinks:
#: the test fails when a listed module is clean, so drop it from here when you convert it.
ALLOWLIST: frozenset[str] = frozenset(
    {
        # being converted (issue 9)
    }
)

CONNECTION_NAMES = frozenset(
    {"conn", "connection", "aconn", "cur", "cursor", "acur", "pool", "db", "tx"}
)
CONNECTION_TYPES = frozenset(
    {
        "Connection",
        "AsyncConnection",
        "Cursor",
        "AsyncCursor",
        "ServerCursor",
        "AsyncServerCursor",
        "ConnectionPool",
        "AsyncConnectionPool",
    }
)
CURSOR_NAMES = frozenset({"cur", "cursor", "acur"})
CURSOR_CALLS = frozenset({"execute", "cursor", "stream"})
ROW, ROWS, CURSOR = "row", "rows", "cursor"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule at one line."""

    line: int
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.rule}: {self.detail}"


Function = ast.FunctionDef | ast.AsyncFunctionDef


def _annotation_names(node: ast.expr | None) -> set[str]:
    if node is None:
        return set()
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
    }


def _is_connection(arg: ast.arg) -> bool:
    return arg.arg in CONNECTION_NAMES or bool(_annotation_names(arg.annotation) & CONNECTION_TYPES)


def _signature_violations(tree: ast.Module) -> list[Violation]:
    """Rule (a), for module-level functions and methods alike (`self`/`cls` skipped)."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, Function) or node.name.startswith("_"):
            continue
        positional = [*node.args.posonlyargs, *node.args.args]
        if positional and positional[0].arg in ("self", "cls"):
            positional = positional[1:]
        if positional and _is_connection(positional[0]) and len(positional) > 1:
            names = ", ".join(a.arg for a in positional[1:])
            found.append(
                Violation(
                    node.lineno,
                    "positional parameters after the connection",
                    f"{node.name}({positional[0].arg}, {names}): put `*` after {positional[0].arg}",
                )
            )
    return found


def _int_index(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int


class _Scope:
    """What each name in one function holds: a row, rows or a cursor."""

    def __init__(self, func: Function, row_params: set[str]) -> None:
        self.func = func
        self.kinds: dict[str, str] = {}
        for arg in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]:
            if arg.arg in row_params:
                self.kinds[arg.arg] = ROW
            elif arg.arg in CURSOR_NAMES:
                self.kinds[arg.arg] = CURSOR
        while self._bind():
            pass

    def kind(self, node: ast.expr | None) -> str | None:
        """The kind of value an expression yields, if it is one we track."""
        while isinstance(node, ast.Await):
            node = node.value
        if isinstance(node, ast.BoolOp):
            return self.kind(node.values[0])
        if isinstance(node, ast.Name):
            return self.kinds.get(node.id)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr = node.func.attr
            if attr == "fetchone":
                return ROW
            if attr in ("fetchall", "fetchmany"):
                return ROWS
            if attr in CURSOR_CALLS:
                return CURSOR
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("list", "sorted", "tuple", "reversed") and node.args:
                return ROWS if self.kind(node.args[0]) in (ROWS, CURSOR) else None
        if isinstance(node, ast.Subscript) and self.kind(node.value) == ROWS:
            return ROWS if isinstance(node.slice, ast.Slice) else ROW
        return None

    def iterated(self, node: ast.expr) -> bool:
        """True when iterating `node` yields rows."""
        return self.kind(node) in (ROWS, CURSOR)

    def _set(self, target: ast.expr, kind: str | None) -> bool:
        if isinstance(target, ast.Name) and kind and self.kinds.get(target.id) is None:
            self.kinds[target.id] = kind
            return True
        return False

    def _bind(self) -> bool:
        changed = False
        for node in ast.walk(self.func):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    changed |= self._set(target, self.kind(node.value))
            elif isinstance(node, ast.AnnAssign | ast.NamedExpr):
                changed |= self._set(node.target, self.kind(node.value))
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                changed |= self._set(node.optional_vars, self.kind(node.context_expr))
            elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
                changed |= self._set(node.target, ROW if self.iterated(node.iter) else None)
        return changed

    def violations(self) -> list[Violation]:
        found = []
        for node in ast.walk(self.func):
            if (
                isinstance(node, ast.Subscript)
                and _int_index(node.slice)
                and self.kind(node.value) == ROW
            ):
                found.append(
                    Violation(node.lineno, "positional read", ast.unparse(node)),
                )
            elif isinstance(node, ast.Starred) and self.kind(node.value) == ROW:
                found.append(Violation(node.lineno, "row unpacked", ast.unparse(node)))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
                spread = (node.func.id in ("list", "tuple") and self.kind(node.args[0]) == ROW) or (
                    node.func.id == "dict" and self.iterated(node.args[0])
                )
                if spread:
                    found.append(Violation(node.lineno, "row unpacked", ast.unparse(node)))
            elif isinstance(node, ast.Assign) and self.kind(node.value) == ROW:
                for target in node.targets:
                    if isinstance(target, ast.Tuple | ast.List):
                        found.append(
                            Violation(node.lineno, "row unpacked", ast.unparse(target)),
                        )
            elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
                if isinstance(node.target, ast.Tuple | ast.List) and self.iterated(node.iter):
                    line = getattr(node, "lineno", getattr(node.iter, "lineno", 0))
                    found.append(Violation(line, "row unpacked", ast.unparse(node.target)))
        return found

    def row_arguments(self) -> Iterator[tuple[str, int]]:
        """(function name, position) of each call `f(…, row, …)` in this function."""
        for node in ast.walk(self.func):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                for i, arg in enumerate(node.args):
                    if not isinstance(arg, ast.Starred) and self.kind(arg) == ROW:
                        yield node.func.id, i


def _row_violations(tree: ast.Module) -> list[Violation]:
    """Rule (b), with rows followed into the module-level functions they are passed to."""
    functions = {n.name: n for n in tree.body if isinstance(n, Function)}
    every = [n for n in ast.walk(tree) if isinstance(n, Function)]
    row_params: dict[str, set[str]] = {}
    while True:
        scopes = [
            _Scope(f, row_params.get(f.name, set()) if f in functions.values() else set())
            for f in every
        ]
        grown = False
        for scope in scopes:
            for name, position in scope.row_arguments():
                callee = functions.get(name)
                params = [*callee.args.posonlyargs, *callee.args.args] if callee else []
                if position < len(params):
                    marked = row_params.setdefault(name, set())
                    if params[position].arg not in marked:
                        marked.add(params[position].arg)
                        grown = True
        if not grown:
            break
    seen: set[tuple[int, str, str]] = set()
    found = []
    for scope in scopes:
        for v in scope.violations():
            if (v.line, v.rule, v.detail) not in seen:  # nested functions are walked twice
                seen.add((v.line, v.rule, v.detail))
                found.append(v)
    return found


def check(source: str) -> list[Violation]:
    """Every violation of rules (a) and (b) in one module's source, by line."""
    tree = ast.parse(source)
    return sorted(_signature_violations(tree) + _row_violations(tree), key=lambda v: v.line)


def _storage_violations() -> dict[str, list[Violation]]:
    return {
        path.relative_to(ROOT).as_posix(): found
        for path in sorted(STORAGE.glob("*.py"))
        if (found := check(path.read_text(encoding="utf-8")))
    }


def test_storage_reads_rows_by_name_with_keyword_only_arguments() -> None:
    found = _storage_violations()
    new = {path: found[path] for path in sorted(set(found) - ALLOWLIST)}
    assert not new, (
        "storage/ conventions broken (issue 9; docs/architecture.md, 'Storage'):\n"
        + "\n".join(f"{path} {v}" for path, vs in new.items() for v in vs)
        + "\nRead rows by name (conn.cursor(row_factory=class_row(SomeRow)), dict_row, "
        "scalar_row for a single column) and put `*` after the connection."
    )


def test_the_allowlist_only_shrinks() -> None:
    found = _storage_violations()
    clean = sorted(ALLOWLIST - set(found))
    assert not clean, f"{clean} follow the conventions now: drop them from ALLOWLIST"
    missing = sorted(p for p in ALLOWLIST if not (ROOT / p).is_file())
    assert not missing, f"{missing} no longer exist: drop them from ALLOWLIST"


BAD = """
async def get(conn: AsyncConnection[Any], ent: str, *, limit: int) -> None:
    pass

async def pair(cur, *, ent):
    row = await (await cur.execute(Q, {"ent": ent})).fetchone()
    return row[0], (await cur.fetchone())[-1]

async def unpacked(conn):
    async with conn.cursor() as c:
        await c.execute(Q)
        a, b = await c.fetchone()
        rows = await c.fetchall()
        first = rows[0]
        out = {k: v for k, v in rows}
        for x, y in await (await conn.execute(Q)).fetchall():
            pass
        async for p, q in c:
            pass
        return [_op(r) for r in rows], first[1], rows[0][2]

def spread(conn):
    rows = conn.execute(Q).fetchall()
    return dict(rows), [list(r) for r in rows], f(*rows[0])

def _op(r):
    return r[3]
"""

GOOD = """
async def get(conn: AsyncConnection[Any], *, ent: str, limit: int = 5) -> None:
    async with conn.cursor(row_factory=class_row(Row)) as cur:
        await cur.execute(Q, {"ent": ent})
        rows = await cur.fetchall()
    first = rows[0]
    pairs = {r.ent: r.n for r in rows}
    return first.ent, pairs, [x[0] for x in SOME_CONSTANT], (1, 2)[0]

async def one(conn, *, ent):
    async with conn.cursor(row_factory=dict_row) as cur:
        row = await (await cur.execute(Q, {"ent": ent})).fetchone() or {}
    a, b = divmod(7, 2)
    return row["n"], a, b

def _private(conn, query, params):
    return query

def pure(values, limit):
    return values[0]

def make_pool(url, *, min_size=1):
    return url
"""


def test_the_checker_catches_each_kind_of_violation() -> None:
    found = check(BAD)
    described = [(v.line, v.rule) for v in found]
    assert described == [
        (2, "positional parameters after the connection"),
        (7, "positional read"),
        (7, "positional read"),
        (12, "row unpacked"),
        (15, "row unpacked"),
        (16, "row unpacked"),
        (18, "row unpacked"),
        (20, "positional read"),
        (20, "positional read"),
        (24, "row unpacked"),
        (24, "row unpacked"),
        (24, "row unpacked"),
        (27, "positional read"),
    ], "\n".join(map(str, found))
    assert "get(conn, ent)" in str(found[0])


def test_the_checker_passes_reading_by_name() -> None:
    assert check(GOOD) == []
