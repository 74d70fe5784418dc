"""`safewatch draw` and `safewatch verify-draw`: an offline draw a notary can rerun, no database."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from config.policy_sampling import load_sampling_policy, parse_plan_file
from domain.draw import commitment_of, draw, freeze, parse_secret, verify_bytes
from domain.draw.canonical import paused_gc
from domain.draw.snapshot import enterprise_rows, officer_rows
from domain.errors import SafewatchError, ValidationFailed
from domain.imports import Parsed, RowError, parse_enterprises, parse_officers
from domain.tabular import OFFLINE_LIMITS, NumberedRows, read_table

#: How many bad rows are listed before the rest are only counted.
SHOW_ERRORS = 20


def read_rows(path: Path) -> NumberedRows:
    """Rows of a CSV or XLSX file on disk, bounded by the offline draw's limits."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc.strerror}") from exc
    return read_table(data, path.name, OFFLINE_LIMITS)


def register(app: typer.Typer) -> None:
    """Add the `draw` and `verify-draw` commands to the safewatch CLI."""
    app.command("draw")(draw_command)
    app.command("verify-draw")(verify_command)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _report(what: str, parsed: Parsed[Any], keep_good_rows: bool) -> None:
    """List a table's problems; refuse bad rows unless asked to keep the good ones."""
    notes = [e for e in parsed.errors if e.row == 1 and e.reason.endswith("ignored")]
    errors: list[RowError] = [e for e in parsed.errors if e not in notes]
    for note in notes:
        typer.echo(f"note: {what}: column {note.column!r}: {note.reason}", err=True)
    for err in errors[:SHOW_ERRORS]:
        typer.echo(f"{what}: row {err.row}, column {err.column!r}: {err.reason}", err=True)
    if len(errors) > SHOW_ERRORS:
        typer.echo(f"{what}: … and {len(errors) - SHOW_ERRORS} more problems", err=True)
    if errors and not (keep_good_rows and parsed.records):
        raise _fail(
            f"{what}: {len(errors)} problem(s); fix the file or pass --keep-good-rows "
            f"to draw from the {len(parsed.records)} good rows"
        )


def draw_command(
    plan: Annotated[Path, typer.Option("--plan", help="plan.yaml")],
    enterprises: Annotated[Path, typer.Option("--enterprises", help="enterprise CSV or XLSX")],
    officers: Annotated[Path, typer.Option("--officers", help="officer/expert CSV or XLSX")],
    out: Annotated[Path, typer.Option("--out", help="where to write draw.json")],
    secret: Annotated[
        str | None, typer.Option("--secret", help="64 hex digits; a fresh random one if omitted")
    ] = None,
    public_value: Annotated[
        str, typer.Option("--public-value", help="e.g. lottery numbers read out at the session")
    ] = "",
    policy: Annotated[
        Path | None, typer.Option("--policy", help="sampling policy (default strata) YAML")
    ] = None,
    keep_good_rows: Annotated[
        bool, typer.Option("--keep-good-rows", help="draw even if some rows are bad (listed)")
    ] = False,
) -> None:
    """Draw offline from a plan file and directory files; write the verifiable draw.json."""
    try:
        sampling = load_sampling_policy(policy)
        the_plan, period = parse_plan_file(plan.read_text(encoding="utf-8"), sampling)
        if period is None:
            raise _fail("the plan file needs a period (label, start, end) for an offline draw")
        ents = parse_enterprises(read_rows(enterprises))
        _report(str(enterprises), ents, keep_good_rows)
        offs = parse_officers(read_rows(officers))
        _report(str(officers), offs, keep_good_rows)
        key = parse_secret(secret.lower()) if secret else secrets.token_bytes(32)
        started = time.perf_counter()
        with paused_gc():
            frozen = freeze(
                plan_id=the_plan.plan_id,
                period=period,
                rules=the_plan.rules,
                enterprise_rows=enterprise_rows(ents.records, ents.extras["history"]),
                officer_rows=officer_rows(offs.records, offs.extras["prior_load"]),
                commitment=commitment_of(key),
            )
            drawn = draw(frozen, secret=key, public_value=public_value)
            data = drawn.document_bytes() + b"\n"
        elapsed = time.perf_counter() - started
        out.write_bytes(data)
    except OSError as exc:
        raise _fail(f"{exc.filename}: {exc.strerror}") from exc
    except SafewatchError as exc:
        raise _fail(exc.message) from exc
    typer.echo(f"plan {the_plan.plan_id} period {period}: wrote {out} ({len(data)} bytes)")
    typer.echo(f"commitment {frozen.commitment}")
    for name, value in sorted(frozen.hashes.items()):
        typer.echo(f"sha256 {name} {value}")
    typer.echo(f"seed {drawn.seed}")
    typer.echo(
        f"eligible enterprises {sum(len(m) for _, m in frozen.eligibility.strata)}, "
        f"selected {len(drawn.selected)}, teams {len(drawn.teams)}, "
        f"unstaffed {len({u['enterprise'] for u in drawn.unstaffed})} ({elapsed:.2f} s)"
    )
    for item in drawn.unstaffed[:SHOW_ERRORS]:
        typer.echo(
            f"unstaffed: {item['enterprise']} in {item['pool']}: {item['reason']} "
            f"(needs {item['needed']}, pool {item['pool_size']}, recused {item['recused']}, "
            f"own county {item['own_county']}, allowed {item['allowed']})",
            err=True,
        )


def verify_command(
    path: Annotated[Path, typer.Argument(help="a draw.json (or a frozen record)")],
    commitment: Annotated[
        str | None, typer.Option("--commitment", help="the commitment published before the draw")
    ] = None,
) -> None:
    """Re-derive every byte of a draw; exit 0 if it all agrees, 1 naming the first difference."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _fail(f"{path}: {exc.strerror}") from exc
    problem = verify_bytes(data)
    if problem is None and commitment is not None:
        found = json.loads(data)["commitment"]
        if found != commitment.lower():
            problem = f"commitment: document has {found!r}, published {commitment.lower()!r}"
    if problem is not None:
        typer.echo(f"FAIL: {problem}")
        raise typer.Exit(1)
    doc = json.loads(data)
    typer.echo(f"OK: {doc['plan_id']} {doc['period']} re-derives ({doc['algorithm']})")
    typer.echo(f"commitment {doc['commitment']}")
    for name, value in sorted(doc["hashes"].items()):
        typer.echo(f"sha256 {name} {value}")
