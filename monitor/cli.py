"""`safewatch mqtt-credentials` and `safewatch simulate`."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from config.logs import setup_logging
from config.settings import Settings, load_settings
from domain.errors import ConfigurationError, SafewatchError


def register(app: typer.Typer) -> None:
    """Add the monitoring commands to the safewatch CLI."""
    app.command("mqtt-credentials")(mqtt_credentials)
    app.command("simulate")(simulate)
    app.command("protocol-schema")(protocol_schema)
    app.command("conformance")(conformance)


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        typer.echo(f"configuration error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    setup_logging(settings.log_level, settings.log_format)
    return settings


def mqtt_credentials(
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out-dir",
            "--out",
            help="where to write mosquitto.conf, passwd, acl and credentials.csv",
        ),
    ] = None,
    rotate: Annotated[bool, typer.Option(help="new passwords for every account")] = False,
    rotate_enterprise: Annotated[
        list[str] | None,
        typer.Option(
            "--rotate-enterprise",
            help="a new password for this enterprise's account only (repeat for several); "
            "then make the broker re-read its files (SIGHUP)",
        ),
    ] = None,
    service_user: Annotated[
        str | None,
        typer.Option(help="the service account (default SAFEWATCH_MQTT_USERNAME or safewatch)"),
    ] = None,
    owner: Annotated[
        str | None,
        typer.Option(
            help="USER[:GROUP] (names or ids, e.g. 1883:1883 for the eclipse-mosquitto image): "
            "chown the broker's files to it and make them 0640 instead of 0644"
        ),
    ] = None,
    service_only: Annotated[
        bool,
        typer.Option(
            "--service-only",
            help="only the service account, without reading the enterprise directory (first "
            "start, before the database exists); re-run without it after importing enterprises",
        ),
    ] = False,
) -> None:
    """Generate Mosquitto's password file and ACL: one account per enterprise in the directory
    (user name = credit code), limited to its own `{prefix}/ent/{code}/#`, plus the service
    account. Existing passwords are kept unless --rotate. Also writes the broker's
    mosquitto.conf (TLS listener, persistence) with explicit file modes."""
    from monitor.broker_deploy import finish_deploy_files
    from monitor.credentials import generate
    from storage import enterprises

    settings = _settings()
    codes: list[str] = []
    try:
        if not service_only:
            codes = enterprises.active_codes(settings.database_url)
    except SafewatchError as exc:
        typer.echo(
            f"error: cannot read the enterprise directory: {exc.message} "
            "(use --service-only before the database exists)",
            err=True,
        )
        raise typer.Exit(1) from exc
    target = out_dir or settings.data_dir / "mosquitto"
    unknown = sorted(set(rotate_enterprise or ()) - set(codes))
    if unknown:
        typer.echo(
            f"error: --rotate-enterprise {', '.join(unknown)}: not an active enterprise of the "
            "directory",
            err=True,
        )
        raise typer.Exit(2)
    user = service_user or settings.mqtt_username or "safewatch"
    written = generate(
        target,
        prefix=settings.mqtt_topic_prefix,
        service_user=user,
        service_password=settings.mqtt_password,
        enterprises=codes,
        rotate=rotate,
        rotate_only=frozenset(rotate_enterprise or ()),
    )
    try:
        files = finish_deploy_files(
            target,
            written=written,
            service_user=user,
            owner=owner,
        )
    except (ValueError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"{written.accounts} accounts ({len(codes)} enterprises + service account {user!r})\n"
        f"config {files.config.resolve()} (broker files mode {files.mode:o})\n"
        f"sites' listener (client id = user name): password_file "
        f"{written.password_file.resolve()}, acl_file {written.acl_file.resolve()}\n"
        f"service listener: password_file {written.service_password_file.resolve()}, "
        f"acl_file {written.service_acl_file.resolve()}\n"
        f"plain passwords (keep private): {written.credentials.resolve()}"
    )
    if settings.mqtt_password is None:
        typer.echo(
            f"set SAFEWATCH_MQTT_USERNAME={user} and SAFEWATCH_MQTT_PASSWORD to the service "
            "password in credentials.csv for the monitor"
        )


def simulate(
    enterprises: Annotated[int, typer.Option(min=1, max=5000, help="sites to play")] = 30,
    rate: Annotated[
        float | None,
        typer.Option(min=0.1, help="messages per second in all (default: the profile's pace)"),
    ] = None,
    storm: Annotated[
        bool,
        typer.Option(
            "--storm", help="load: constant reports and frequent faults instead of a duty day"
        ),
    ] = False,
    duration: Annotated[
        float | None, typer.Option(min=1, help="stop after this many seconds")
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    credentials: Annotated[
        Path | None,
        typer.Option(help="credentials.csv from mqtt-credentials (if the broker needs it)"),
    ] = None,
) -> None:
    """Run a realistic fleet of demo sites against the broker until Ctrl-C (or --duration)."""
    from monitor.sim_profile import NORMAL, STORM
    from monitor.simulator import run_simulator

    settings = _settings()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if duration:
            loop.call_later(duration, stop.set)
        await run_simulator(
            settings,
            stop,
            enterprises=enterprises,
            rate=rate,
            seed=seed,
            credentials=credentials,
            profile=STORM if storm else NORMAL,
        )

    if credentials is not None and not credentials.exists():
        typer.echo(f"error: {credentials} does not exist", err=True)
        raise typer.Exit(2)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())


def protocol_schema(
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out-dir", help="default: api/protocol_schema (committed, served by the API)"
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="only compare; exit 1 when a file differs")
    ] = False,
) -> None:
    """Write the JSON Schema of every site uplink and downlink, generated from the models."""
    from monitor.protocol_schema import SCHEMA_DIR, generated, write

    target = out_dir or SCHEMA_DIR
    if check:
        stale = [
            name
            for name, text in generated().items()
            if not (target / name).is_file() or (target / name).read_text("utf-8") != text
        ]
        if stale:
            typer.echo(f"out of date in {target}: {', '.join(stale)}", err=True)
            raise typer.Exit(1)
        typer.echo(f"{target}: up to date")
        return
    for path in write(target):
        typer.echo(str(path))


def conformance(
    client: Annotated[
        str,
        typer.Option(
            help="the site client's command line; {url} {host} {port} {username} {password} "
            "{prefix} {ent} are filled in (also in SITE_MQTT_URL, SITE_MQTT_USERNAME, "
            "SITE_MQTT_PASSWORD, SITE_TOPIC_PREFIX, SITE_ENTERPRISE)"
        ),
    ],
    enterprise: Annotated[str, typer.Option(help="the credit code to play")] = "913301020000000019",
    prefix: Annotated[str, typer.Option(help="topic prefix")] = "safewatch/v1",
    observe_s: Annotated[
        float, typer.Option(min=1.0, help="how long to watch the connected client")
    ] = 70.0,
    heartbeat_limit_s: Annotated[
        float, typer.Option(min=1.0, help="longest silence allowed (the protocol: 60 s)")
    ] = 60.0,
    connect_timeout_s: Annotated[float, typer.Option(min=1.0)] = 30.0,
    ack_timeout_s: Annotated[float, typer.Option(min=1.0)] = 10.0,
) -> None:
    """Run a scripted scenario against a site client on a broker of its own (Mosquitto with the
    production configuration) and print a checklist; exit 1 when a rule is broken."""
    from domain.credit_code import credit_code_problem
    from monitor.conformance import Options, run

    problem = credit_code_problem(enterprise)
    if problem is not None:
        typer.echo(f"--enterprise refused: {problem}", err=True)
        raise typer.Exit(2)
    try:
        report = run(
            Options(
                client=client,
                enterprise=enterprise,
                prefix=prefix,
                connect_timeout_s=connect_timeout_s,
                ack_timeout_s=ack_timeout_s,
                observe_s=observe_s,
                heartbeat_limit_s=heartbeat_limit_s,
            ),
            out=lambda line: typer.echo(f"... {line}"),
        )
    except (RuntimeError, OSError, KeyError, ValueError) as exc:
        typer.echo(f"conformance: cannot run: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(report.text())
    if not report.ok:
        raise typer.Exit(1)
