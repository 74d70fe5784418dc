"""Before/after of two revisions, interleaved: bench/ingest.py, bench/api.py and bench/draw.py of
each revision against that revision's own code, in alternating runs, then one table of medians.

    nice -n -10 .venv/bin/python bench/compare_revisions.py [--baseline c4ffaad] [--target main]
        [--rounds 3] [--only ingest,api,draw] [--out var/compare]

Each revision is checked out into a temporary `git worktree` (removed at the end). Both run on
this interpreter's environment, with `PYTHONPATH` and the working directory set to the
revision's tree, so every import (also in the monitor and API subprocesses the scripts start)
resolves to that tree; the script refuses to run when the baseline's pyproject.toml names a
dependency the current environment does not satisfy. The benchmark scripts use fixed database
names (sw_bench_api, sw_bench_ingest), so runs are sequential; each run takes the machine's bench
lock (/tmp/safewatch-bench.lock) for itself, so others' benchmarks never overlap one of ours,
and the load average is recorded before and after every run.

Order: each round runs every benchmark once per revision; which revision goes first alternates
from round to round (A B, B A, A B, …), so a drift in the machine's load does not favour one.
Every run's raw output is kept under --out; the table (median, min–max per figure and revision,
and the ratio target/baseline) is printed and written there as table.md.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
LOCK = Path("/tmp/safewatch-bench.lock")

#: Arguments per benchmark: one round per invocation (the rounds come from interleaving), the
#: docs left alone.
ARGS = {
    "ingest": ["--repeat", "1", "--no-doc"],
    "api": ["--rounds", "1", "--no-doc"],
    "draw": ["--repeat", "3", "--tight-cap", "0", "--no-write"],
}
#: --smoke: tiny sizes, to check that every script runs and every figure is found.
SMOKE = {
    "ingest": ["--events", "1000", "--telemetry", "5", "--alarm-seconds", "1"],
    "api": ["--enterprises", "2500", "--seconds", "1"],
    "draw": ["--enterprises", "3000", "--per-department", "100", "--repeat", "1"],
}

#: The API harness of main warms the status cache with one pass over the 2,000 rotated
#: enterprises before measuring; the baseline's did not (its first round measured cold renders).
#: The same pass is added to the baseline's copy so both measure the same thing.
API_WARM_ANCHOR = "            script = rotating_script(status_path, codes, token, tmp)\n"
API_WARM = """\
            warm = {"Authorization": f"Bearer {token}"}
            with httpx.Client(timeout=30) as client:
                for code in codes[:2000]:
                    path = status_path.replace("{ent}", code)
                    client.get(f"http://127.0.0.1:{rport}{path}", headers=warm)
"""

NUM = r"([\d,]+(?:\.\d+)?)"


def _num(text: str) -> float:
    return float(text.replace(",", ""))


@dataclass(frozen=True)
class Figure:
    """One figure a benchmark prints: how to find it and which direction is better."""

    name: str
    pattern: str
    higher_is_better: bool

    def read(self, text: str) -> float | None:
        found = re.search(self.pattern, text, re.M)
        return _num(found.group(1)) if found else None


FIGURES: dict[str, list[Figure]] = {
    "ingest": [
        Figure(
            "events: bare subscriber (ceiling), events/s", r"ceiling " + NUM + " events/s", True
        ),
        Figure("events: monitor, events/s", r"monitor " + NUM + " events/s", True),
        Figure("telemetry: bare COPY, points/s", r"bare COPY " + NUM + " points/s", True),
        Figure("telemetry: monitor, points/s", r"monitor " + NUM + " points/s", True),
        Figure("publish→stored p50 at saturation, ms", r"saturation.*?p50 " + NUM + " ms", False),
        Figure("publish→stored p99 at saturation, ms", r"saturation.*?p99 " + NUM + " ms", False),
        Figure("publish→alarm p50 at 1,000 ev/s, ms", r"'p50': " + NUM, False),
        Figure("publish→alarm p99 at 1,000 ev/s, ms", r"'p99': " + NUM, False),
        Figure("lost events", r"\(lost (\d+), duplicated", False),
        Figure("duplicated events", r"\(lost \d+, duplicated (\d+)", False),
    ],
    "api": [
        Figure("ceiling (bare FastAPI), req/s", r"^- ceiling .*?best " + NUM + " req/s", True),
        Figure("status GET …/{ent}/status, req/s", r"^- single-enterprise.*?best " + NUM, True),
        Figure("status p50, ms", r"^- single-enterprise.*?p50 " + NUM + " ms", False),
        Figure("status p99, ms", r"^- single-enterprise.*?p99 " + NUM + " ms", False),
        Figure("GET /auth/me, req/s", r"auth/me.*?best " + NUM + " req/s", True),
        Figure("board snapshot, req/s", r"^- status-board.*?s\): " + NUM + " req/s", True),
        Figure("board snapshot p50, ms", r"^- status-board.*?p50 " + NUM + " ms", False),
        Figure("board snapshot p99, ms", r"^- status-board.*?p99 " + NUM + " ms", False),
    ],
    "draw": [
        Figure("draw median, s", r"^draw .*?median " + NUM + " s", False),
        Figure("draw ceiling, s", r"^draw .*?ceiling " + NUM + " s", False),
        Figure("verify median, s", r"^verify .*?median " + NUM + " s", False),
        Figure("verify ceiling, s", r"^verify .*?ceiling " + NUM + " s", False),
    ],
}

#: Figures derived per run (a ratio to the same run's reference is steadier than seconds).
DERIVED: dict[str, list[tuple[str, str, str, bool]]] = {
    "ingest": [
        ("events: monitor / ceiling", "events: monitor, events/s",
         "events: bare subscriber (ceiling), events/s", True),
        ("telemetry: monitor / bare COPY", "telemetry: monitor, points/s",
         "telemetry: bare COPY, points/s", True),
    ],
    "api": [
        ("status / ceiling", "status GET …/{ent}/status, req/s", "ceiling (bare FastAPI), req/s",
         True),
        ("/auth/me / ceiling", "GET /auth/me, req/s", "ceiling (bare FastAPI), req/s", True),
    ],
    "draw": [
        ("draw / its ceiling", "draw median, s", "draw ceiling, s", False),
        ("verify / its ceiling", "verify median, s", "verify ceiling, s", False),
    ],
}  # fmt: skip


@dataclass
class Run:
    """One benchmark run of one revision."""

    bench: str
    revision: str
    round: int
    seconds: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    returncode: int
    figures: dict[str, float] = field(default_factory=dict)


def git(*args: str, cwd: Path = ROOT) -> str:
    """Run git and return its stdout."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def unmet_requirements(tree: Path) -> list[str]:
    """Dependencies (main and dev) of the tree's pyproject.toml that this environment lacks."""
    import tomllib

    project = tomllib.loads((tree / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"]) + list(
        project.get("optional-dependencies", {}).get("dev", [])
    )
    missing = []
    for spec in wanted:
        req = Requirement(spec)
        try:
            version = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            missing.append(f"{spec} (not installed)")
            continue
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            missing.append(f"{spec} (installed {version})")
    return missing


def checkout(rev: str, base: Path) -> Path:
    """A detached worktree of `rev` under `base`."""
    sha = git("rev-parse", "--short=10", rev)
    tree = base / sha
    git("worktree", "add", "--detach", str(tree), sha)
    return tree


def patch_baseline(tree: Path) -> list[str]:
    """Bring the baseline's harness to what main's measures (see API_WARM); what was changed."""
    changed = []
    api = tree / "bench" / "api.py"
    text = api.read_text()
    if API_WARM_ANCHOR in text and "warm = {" not in text:
        api.write_text(text.replace(API_WARM_ANCHOR, API_WARM_ANCHOR + API_WARM, 1))
        changed.append("bench/api.py: one warm-up pass over the 2,000 rotated enterprises")
    return changed


def resolves_to(tree: Path) -> str:
    """Where the tree's own packages are imported from under the environment we give it."""
    code = "import api, domain, monitor, storage; print(api.__file__, storage.__file__)"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=env_for(tree), check=True,
        capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def env_for(tree: Path) -> dict[str, str]:
    """The environment of a run in `tree`: its root first on the import path."""
    return os.environ | {"PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}


def run_one(bench: str, tree: Path, out: Path, label: str, *, smoke: bool) -> tuple[str, Run]:
    """Run one benchmark script of `tree` under the bench lock; its output and figures."""
    cmd = [sys.executable, f"bench/{bench}.py", *ARGS[bench], *(SMOKE[bench] if smoke else [])]
    before = os.getloadavg()
    started = time.monotonic()
    proc = subprocess.run(
        cmd, cwd=tree, env=env_for(tree), capture_output=True, text=True, check=False
    )
    seconds = time.monotonic() - started
    after = os.getloadavg()
    out.write_text(
        f"$ (cd {tree} && {' '.join(cmd)})\nexit {proc.returncode}, {seconds:.0f} s, load "
        f"{before} -> {after}\n\n{proc.stdout}\n--- stderr ---\n{proc.stderr[-20000:]}"
    )
    run = Run(bench, label, 0, seconds, before, after, proc.returncode)
    read_figures(run, proc.stdout)
    return proc.stdout, run


def read_figures(run: Run, stdout: str) -> None:
    """Fill in the figures a run printed, and the derived ratios."""
    for fig in FIGURES[run.bench]:
        value = fig.read(stdout)
        if value is not None:
            run.figures[fig.name] = value
    for name, num, den, _ in DERIVED[run.bench]:
        if num in run.figures and run.figures.get(den):
            run.figures[name] = run.figures[num] / run.figures[den]


def runs_in(out: Path) -> list[Run]:
    """The runs whose raw output is kept in `out` (r<round>-<bench>-<revision>.txt)."""
    runs = []
    for path in sorted(out.glob("r*-*-*.txt"), key=lambda p: p.stat().st_mtime):
        round_, bench, revision = path.stem.split("-", 2)
        text = path.read_text()
        head = re.match(r".*\nexit (-?\d+), (\d+) s, load \((.*?)\) -> \((.*?)\)", text)
        if head is None:
            continue
        loads = [tuple(float(x) for x in head.group(i).split(", ")) for i in (3, 4)]
        run = Run(bench, revision, int(round_[1:]), float(head.group(2)), loads[0][:3],  # type: ignore[arg-type]
                  loads[1][:3], int(head.group(1)))  # type: ignore[arg-type]  # fmt: skip
        read_figures(run, text.split("\n--- stderr ---\n", 1)[0])
        runs.append(run)
    return runs


def spread(values: list[float]) -> str:
    """Median and range of a figure's values."""
    if not values:
        return "—"
    med = statistics.median(values)
    fmt: Callable[[float], str] = (lambda v: f"{v:,.0f}") if med >= 100 else (lambda v: f"{v:.3g}")
    return f"{fmt(med)} ({fmt(min(values))}–{fmt(max(values))})"


def table(runs: list[Run], labels: tuple[str, str]) -> str:
    """Markdown: per figure, median (min–max) of each revision and the ratio target/baseline."""
    base, target = labels
    lines = [
        f"| benchmark | figure | better | {base} median (min–max) | {target} median (min–max) "
        f"| {target}/{base} |",
        "|---|---|---|---|---|---|",
    ]
    for bench in FIGURES:
        names = [(f.name, f.higher_is_better) for f in FIGURES[bench]]
        names += [(d[0], d[3]) for d in DERIVED[bench]]
        for name, higher in names:
            a = [r.figures[name] for r in runs if r.bench == bench and r.revision == base
                 and name in r.figures]  # fmt: skip
            b = [r.figures[name] for r in runs if r.bench == bench and r.revision == target
                 and name in r.figures]  # fmt: skip
            if not a and not b:
                continue
            ratio = (
                f"{statistics.median(b) / statistics.median(a):.2f}"
                if a and b and statistics.median(a)
                else "—"
            )
            lines.append(
                f"| {bench} | {name} | {'higher' if higher else 'lower'} | {spread(a)} | "
                f"{spread(b)} | {ratio} |"
            )
    return "\n".join(lines)


def run_list(runs: list[Run]) -> str:
    """One line per run, in the order run: round, benchmark, revision, seconds, load average."""
    return "\n".join(
        f"- round {r.round} {r.bench} {r.revision}: exit {r.returncode}, {r.seconds:.0f} s, "
        f"load (1 min) {r.load_before[0]:.1f} before, {r.load_after[0]:.1f} after"
        for r in runs
    )


def main() -> int:
    """Check out both revisions, run the benchmarks interleaved, print and keep the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="c4ffaad")
    parser.add_argument("--target", default="main")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="ingest,api,draw")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "compare")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: does everything run?")
    parser.add_argument("--resume", type=Path, help="a directory of kept runs: run only the rest")
    parser.add_argument("--target-label", help="the target's name in files and tables")
    parser.add_argument(
        "--table-of", type=Path, help="only print the table of the runs kept in this directory"
    )
    args = parser.parse_args()
    if args.table_of:
        kept = runs_in(args.table_of)
        print(table(kept, (args.baseline, args.target)) + "\n\n" + run_list(kept))
        return 0
    benches = [b for b in args.only.split(",") if b]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.resume or args.out / stamp
    out.mkdir(parents=True, exist_ok=True)
    base_dir = Path(tempfile.mkdtemp(prefix="swcmp-"))
    trees: dict[str, Path] = {}
    try:
        labels = (args.baseline, args.target_label or args.target)
        for label, rev in zip(labels, (args.baseline, args.target), strict=True):
            trees[label] = checkout(rev, base_dir)
        header = [f"started {stamp}, uptime: {subprocess.getoutput('uptime')}"]
        for rev, tree in trees.items():
            missing = unmet_requirements(tree)
            if missing:
                sys.exit(f"{rev}: this environment lacks {missing}; make a venv for it")
            header.append(
                f"{rev} = {git('rev-parse', 'HEAD', cwd=tree)} "
                f"({git('log', '-1', '--format=%cd', cwd=tree)}); imports from "
                f"{resolves_to(tree)}"
            )
        header += [f"baseline harness: {c}" for c in patch_baseline(trees[args.baseline])]
        print("\n".join(header), flush=True)
        runs: list[Run] = []
        done = {(r.round, r.bench, r.revision): r for r in runs_in(out)}
        for round_ in range(args.rounds):
            order = list(labels) if round_ % 2 == 0 else list(reversed(labels))
            for bench in benches:
                todo = [rev for rev in order if (round_ + 1, bench, rev) not in done]
                runs += [done[(round_ + 1, bench, rev)] for rev in order if rev not in todo]
                if not todo:
                    continue
                # One lock for the pair: both revisions of a benchmark back to back.
                with LOCK.open("a") as lock:
                    fcntl.flock(lock, fcntl.LOCK_EX)
                    try:
                        pair = [
                            run_one(
                                bench, trees[rev], out / f"r{round_ + 1}-{bench}-{rev}.txt", rev,
                                smoke=args.smoke,
                            )[1]
                            for rev in todo
                        ]  # fmt: skip
                    finally:
                        fcntl.flock(lock, fcntl.LOCK_UN)
                for run in pair:
                    run.round = round_ + 1
                    runs.append(run)
                    shown = ", ".join(f"{k} {v:,.3g}" for k, v in run.figures.items())
                    print(
                        f"round {run.round} {bench} {run.revision}: exit {run.returncode}, "
                        f"{run.seconds:.0f} s, load {run.load_before[0]:.1f}→"
                        f"{run.load_after[0]:.1f}; {shown}",
                        flush=True,
                    )
        result = table(runs, labels)
        footer = (
            f"finished {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, uptime: "
            + subprocess.getoutput("uptime")
        )
        text = "\n".join([*header, "", result, "", footer, ""])
        (out / "table.md").write_text(text)
        (out / "runs.json").write_text(json.dumps([r.__dict__ for r in runs], indent=1))
        print("\n" + result + "\n\n" + footer)
        return 0 if all(r.returncode == 0 for r in runs) else 1
    finally:
        for tree in trees.values():
            git("worktree", "remove", "--force", str(tree))
        base_dir.rmdir()


if __name__ == "__main__":
    sys.exit(main())
