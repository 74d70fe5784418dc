"""`safewatch draw`, `verify-draw` and `draw-reveal`: offline draws a notary can rerun."""

from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from config.policy_sampling import load_sampling_policy, parse_plan_spec
from domain.directory import Officer
from domain.draw import Record, commitment_of, draw, freeze, parse_secret, verify_bytes
from domain.draw.canonical import paused_gc
from domain.draw.public_value import no_public_source, pseudonym, reveal, witness_commitment
from domain.draw.snapshot import enterprise_rows, officer_rows
from domain.errors import SafewatchError, ValidationFailed
from domain.i18n import render
from domain.imports import HEADER_NOTES, Parsed, RowError, parse_enterprises, parse_officers
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
    """Add the `draw`, `verify-draw` and `draw-reveal` commands to the safewatch CLI."""
    app.command("draw")(draw_command)
    app.command("verify-draw")(verify_command)
    app.command("draw-reveal")(reveal_command)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _report(what: str, parsed: Parsed[Any], keep_good_rows: bool) -> None:
    """List a table's problems; refuse bad rows unless asked to keep the good ones."""
    notes = [e for e in parsed.errors if e.row == 1 and e.reason.code in HEADER_NOTES]
    errors: list[RowError] = [e for e in parsed.errors if e not in notes]
    for note in notes:
        typer.echo(f"note: {what}: column {note.column!r}: {render(note.reason)}", err=True)
    for err in errors[:SHOW_ERRORS]:
        typer.echo(f"{what}: row {err.row}, column {err.column!r}: {render(err.reason)}", err=True)
    if len(errors) > SHOW_ERRORS:
        typer.echo(f"{what}: … and {len(errors) - SHOW_ERRORS} more problems", err=True)
    if errors and not (keep_good_rows and parsed.records):
        raise _fail(
            f"{what}: {len(errors)} problem(s); fix the file or pass --keep-good-rows "
            f"to draw from the {len(parsed.records)} good rows"
        )


def _auditor_key(path: Path) -> bytes:
    """The auditors' pseudonym key: read it, or create a fresh one (mode 0600) on first use."""
    if not path.exists():
        key = secrets.token_bytes(32)
        path.write_text(key.hex() + "\n", encoding="ascii")
        path.chmod(0o600)
        typer.echo(f"note: wrote a new auditor key to {path}; give it to the auditors", err=True)
        return key
    return parse_secret(path.read_text(encoding="ascii").strip().lower())


def _witnesses(items: list[str]) -> tuple[list[list[str]], list[bytes]]:
    labels, values = [], []
    for item in items:
        label, _, value = item.partition("=")
        secret = parse_secret(value.strip().lower())
        labels.append([label.strip(), witness_commitment(secret)])
        values.append(secret)
    return labels, values


def _when(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC).replace(microsecond=0)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise _fail("--frozen-at needs a time zone, e.g. 2025-02-28T16:00:00+08:00")
    return moment


def draw_command(
    plan: Annotated[Path, typer.Option("--plan", help="plan.yaml")],
    enterprises: Annotated[Path, typer.Option("--enterprises", help="enterprise CSV or XLSX")],
    officers: Annotated[Path, typer.Option("--officers", help="officer/expert CSV or XLSX")],
    out: Annotated[Path, typer.Option("--out", help="where to write draw.json")],
    auditor_key_file: Annotated[
        Path, typer.Option("--auditor-key-file", help="officer pseudonym key (created if absent)")
    ],
    secret: Annotated[
        str | None, typer.Option("--secret", help="64 hex digits; a fresh random one if omitted")
    ] = None,
    public_value: Annotated[
        str | None, typer.Option("--public-value", help="the value the plan's source published")
    ] = None,
    frozen_at: Annotated[
        str | None, typer.Option("--frozen-at", help="freeze time (ISO 8601 with zone); now")
    ] = None,
    frozen_out: Annotated[
        Path | None, typer.Option("--frozen-out", help="also write the frozen record here")
    ] = None,
    witness: Annotated[
        list[str] | None, typer.Option("--witness", help="LABEL=64-hex-digit secret (repeat)")
    ] = None,
    test_without_public_value: Annotated[
        bool, typer.Option("--test-without-public-value", help="tests only: no public value")
    ] = False,
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
        spec = parse_plan_spec(plan.read_text(encoding="utf-8"))
        the_plan, period = spec.to_plan(sampling), spec.period_label()
        if period is None:
            raise _fail("the plan file needs a period (e.g. period: 2025-03) for an offline draw")
        when = _when(frozen_at)
        if spec.public_value is not None:
            source = spec.public_value.to_domain(when)
            if public_value is None:
                raise _fail(f"--public-value: the value of {source.name} {source.round} is needed")
        elif test_without_public_value:
            source, public_value = no_public_source(when), ""
        else:
            raise _fail(
                "the plan names no public value (public_value: kind, name, round, read_after); "
                "a draw without one is refused outside tests"
            )
        ents = parse_enterprises(read_rows(enterprises))
        _report(str(enterprises), ents, keep_good_rows)
        offs = parse_officers(read_rows(officers))
        _report(str(officers), offs, keep_good_rows)
        key = parse_secret(secret.lower()) if secret else secrets.token_bytes(32)
        auditor = _auditor_key(auditor_key_file)
        labels, witness_values = _witnesses(witness or [])
        record = Record(public_source=source, frozen_at=when, witnesses=labels)

        def alias(officer_id: str) -> str:
            return pseudonym(auditor, the_plan.plan_id, period, record.attempt, officer_id)

        started = time.perf_counter()
        with paused_gc():
            frozen = freeze(
                plan_id=the_plan.plan_id,
                period=period,
                rules=the_plan.rules,
                enterprise_rows=enterprise_rows(ents.records, ents.extras["history"]),
                officer_rows=officer_rows(offs.records, offs.extras["prior_load"], alias),
                commitment=commitment_of(key),
                record=record,
            )
            drawn = draw(
                frozen, secret=key, public_value=public_value, witness_secrets=witness_values
            )
            data = drawn.document_bytes() + b"\n"
        elapsed = time.perf_counter() - started
        if frozen_out is not None:
            frozen_out.write_bytes(frozen.document_bytes() + b"\n")
        out.write_bytes(data)
    except OSError as exc:
        raise _fail(f"{exc.filename}: {exc.strerror}") from exc
    except SafewatchError as exc:
        raise _fail(exc.message) from exc
    typer.echo(f"plan {the_plan.plan_id} period {period}: wrote {out} ({len(data)} bytes)")
    typer.echo(f"commitment {frozen.commitment}")
    for name, value in sorted(frozen.hashes.items()):
        typer.echo(f"sha256 {name} {value}")
    typer.echo(f"public value {drawn.public_value!r} ({source.kind} {source.name} {source.round})")
    typer.echo(f"seed {drawn.seed}")
    typer.echo(
        f"eligible enterprises {sum(len(m) for _, m in frozen.eligibility.strata)}, "
        f"selected {len(drawn.selected)}, teams {len(drawn.teams)}, "
        f"unstaffed {len({u['enterprise'] for u in drawn.unstaffed})} ({elapsed:.2f} s)"
    )
    for item in drawn.unstaffed[:SHOW_ERRORS]:
        typer.echo(
            f"unstaffed: {item['enterprise']} (stratum {item['stratum']}, priority "
            f"{item['priority']}) in {item['pool']}: {item['reason']} (needs {item['needed']}, "
            f"pool {item['pool_size']}, recused {item['recused']}, "
            f"own county {item['own_county']}, allowed {item['allowed']})",
            err=True,
        )


def verify_command(
    path: Annotated[Path, typer.Argument(help="a draw.json (or a frozen record)")],
    frozen: Annotated[
        Path | None, typer.Option("--frozen", help="the frozen record published before the draw")
    ] = None,
    commitment: Annotated[
        str | None, typer.Option("--commitment", help="the commitment published before the draw")
    ] = None,
) -> None:
    """Re-derive every byte of a draw (the stdlib verifier's own code); exit 0 if it all agrees,
    1 naming the first difference."""
    try:
        data = path.read_bytes()
        frozen_data = frozen.read_bytes() if frozen is not None else None
    except OSError as exc:
        raise _fail(f"{exc.filename}: {exc.strerror}") from exc
    problem = verify_bytes(data, frozen_data)
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
    if doc.get("public_source", {}).get("kind") == "none":
        typer.echo(
            "WARNING: no public value: only the bureau's secret made this draw unpredictable"
        )


def reveal_command(
    path: Annotated[Path, typer.Argument(help="a draw.json or frozen record (version 2)")],
    officers: Annotated[Path, typer.Option("--officers", help="the officer directory CSV/XLSX")],
    auditor_key_file: Annotated[Path, typer.Option("--auditor-key-file", help="the auditor key")],
) -> None:
    """For a notary holding the auditors' key: map each pseudonym of a draw back to the officer."""
    try:
        doc = json.loads(path.read_bytes())
        key = parse_secret(auditor_key_file.read_text(encoding="ascii").strip().lower())
        offs = parse_officers(read_rows(officers))
    except OSError as exc:
        raise _fail(f"{exc.filename}: {exc.strerror}") from exc
    except (SafewatchError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    known: dict[str, Officer] = {o.officer_id: o for o in offs.records}
    names = reveal(key, doc["plan_id"], doc["period"], doc["attempt"], sorted(known))
    missing = 0
    for row in doc["officers"]["rows"]:
        oid = names.get(row[0])
        if oid is None:
            missing += 1
            typer.echo(f"{row[0]}\t(not in this directory)")
        else:
            o = known[oid]
            typer.echo(f"{row[0]}\t{oid}\t{o.name}\t{o.certificate_no}\t{o.department}")
    if missing:
        raise _fail(f"{missing} pseudonym(s) match no officer in {officers}", code=1)
