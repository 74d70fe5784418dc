"""The `safewatch` command: the composition root that starts each process or all of them."""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

import typer

from config.policy import Policies
from config.settings import Settings, demo_settings, load_settings
from domain.errors import ConfigurationError, SafewatchError
from domain.region import Region

log = logging.getLogger("safewatch")

app = typer.Typer(
    help="Safewatch — work-safety supervision service.", no_args_is_help=True, add_completion=False
)

#: Room modules that add their own commands via register(app).
COMMAND_MODULES = ("scheduler.cli", "monitor.cli", "monitor.video.cli", "api.cli")

Runner = Callable[[Settings, asyncio.Event], Awaitable[None]]


def _setup_logging(level: str, fmt: str = "text") -> None:
    from config.logs import setup_logging

    setup_logging(level, fmt)


def _settings(**overrides: object) -> Settings:
    try:
        settings = load_settings(**overrides)
    except ConfigurationError as exc:
        typer.echo(f"configuration error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    _setup_logging(settings.log_level, settings.log_format)
    return settings


def _migrate(settings: Settings) -> None:
    from storage.migrate import migrate

    applied = migrate(settings.database_url)
    log.info("migrations applied: %s", applied or "none pending")


async def _run_all(settings: Settings, runners: list[Runner]) -> None:
    """Run the processes under one TaskGroup until SIGTERM/SIGINT, then stop them in order."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def guarded(runner: Runner) -> None:
        try:
            await runner(settings, stop)
        finally:
            stop.set()  # one process ending ends them all: never half a service

    async with asyncio.TaskGroup() as group:
        for runner in runners:
            group.create_task(guarded(runner))


def _runners(names: list[str], policies: Policies) -> list[Runner]:
    """The named processes, each given the one `Policies` object built at start-up."""
    from api.server import run_api
    from monitor.service import run_monitor
    from scheduler.service import run_scheduler

    table = {"api": run_api, "monitor": run_monitor, "scheduler": run_scheduler}
    return [functools.partial(table[name], policies=policies) for name in names]


def _ops_runner(settings: Settings, names: list[str]) -> Runner | None:
    """/metrics and /healthz on SAFEWATCH_METRICS_PORT, checking what these processes need."""
    if settings.metrics_port is None:
        return None
    from api.ops_server import Check, database_check, gauge_check, run_ops_server
    from services.health import broker_check

    checks: dict[str, Check] = {"database": database_check(settings)}
    if "api" in names or "monitor" in names:
        checks["broker"] = broker_check(settings)
    if "monitor" in names:
        checks["ingest"] = gauge_check("safewatch_mqtt_connected", "ingest not connected")

    async def run(settings: Settings, stop: asyncio.Event) -> None:
        await run_ops_server(settings, stop, checks)

    return run


def _policies(settings: Settings) -> Policies:
    """Load every policy file once; refuse to start on one that does not validate."""
    from config.policy import load_policies

    try:
        return load_policies(settings.policy_dir)
    except ConfigurationError as exc:
        typer.echo(f"policy error: {exc.message}", err=True)
        raise typer.Exit(2) from exc


def _serve(settings: Settings, names: list[str]) -> None:
    policies = _policies(settings)
    try:
        _migrate(settings)
        runners = _runners(names, policies)
        ops = _ops_runner(settings, names)
        if ops is not None:
            runners.append(ops)
        asyncio.run(_run_all(settings, runners))
    except SafewatchError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc


@app.command()
def migrate() -> None:
    """Create the database if needed and apply pending migrations."""
    settings = _settings()
    try:
        _migrate(settings)
    except SafewatchError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc


@app.command()
def api() -> None:
    """Run the HTTP API and dashboard."""
    _serve(_settings(), ["api"])


@app.command()
def monitor() -> None:
    """Run the MQTT ingest (scale out with SAFEWATCH_MQTT_SHARED_GROUP)."""
    _serve(_settings(), ["monitor"])


@app.command()
def scheduler() -> None:
    """Run the scheduler (one leader among any number of instances)."""
    _serve(_settings(), ["scheduler"])


@app.command()
def serve() -> None:
    """Run API, monitor and scheduler in one process (a single machine)."""
    _serve(_settings(), ["api", "monitor", "scheduler"])


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option(help="Where demo state is kept.")] = Path("var/demo"),
    port: Annotated[int, typer.Option(help="HTTP port of the dashboard.")] = 8000,
    simulate: Annotated[int, typer.Option(help="Enterprises the simulator plays (0: none).")] = 30,
    storm: Annotated[
        bool, typer.Option("--storm", help="Simulate a storm of reports and faults (load).")
    ] = False,
) -> None:
    """Run the whole service with demo data, starting PostgreSQL and Mosquitto if missing."""
    from monitor.broker import broker_answers, start_mosquitto
    from storage.pool import server_answers

    _setup_logging("INFO")
    data_dir.mkdir(parents=True, exist_ok=True)
    base = demo_settings()
    overrides: dict[str, object] = {"http_port": port, "data_dir": data_dir}
    if "SAFEWATCH_DATABASE_URL" not in os.environ and not server_answers(base.database_url):
        from storage.embedded import start_embedded

        overrides["database_url"], _pg = start_embedded(data_dir)
    broker = None
    if not broker_answers(base.mqtt_host, base.mqtt_port):
        try:
            broker = start_mosquitto(data_dir / "mosquitto")
        except RuntimeError as exc:
            typer.echo(
                f"no MQTT broker answers at {base.mqtt_url} and none could be started: {exc}",
                err=True,
            )
            raise typer.Exit(1) from exc
        overrides["mqtt_url"] = f"mqtt://{broker.host}:{broker.port}"
    settings = base.model_copy(update=overrides)
    policies = _policies(settings)
    try:
        _migrate(settings)
        asyncio.run(_seed_demo(settings, policies.region))
        typer.echo(
            f"\nSafewatch demo: http://{settings.http_host}:{settings.http_port}/  "
            f"(login admin / {settings.admin_password}, duty / duty-demo)\n"
            f"database {settings.database_url}  broker {settings.mqtt_url}\n"
        )
        runners = _runners(["api", "monitor", "scheduler"], policies)
        if simulate:
            runners.append(_simulator(simulate, policies.region, storm=storm))
        asyncio.run(_run_all(settings, runners))
    except SafewatchError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    finally:
        if broker is not None:
            broker.stop()


async def _seed_demo(settings: Settings, region: Region) -> None:
    """Load the demo directory, accounts and whatever each room seeds (seed_demo hooks)."""
    from api.security import hash_password
    from demo.data import demo_enterprises
    from storage import seed, users
    from storage.pool import make_pool

    pool = make_pool(settings.database_url, max_size=2)
    await pool.open(wait=True)
    try:
        async with pool.connection() as conn:
            rows = demo_enterprises(region=region)
            await seed.seed_enterprises(conn, rows=rows)
            for username, role, ent in (
                ("duty", "duty", None),
                ("supervisor", "supervisor", None),
                ("inspector", "inspector", None),
                ("enterprise", "enterprise", rows[0].credit_code),
            ):
                await users.upsert(
                    conn,
                    username=username,
                    role=role,
                    enterprise_id=ent,
                    password_hash=hash_password(f"{username}-demo"),
                )
        for name in DEMO_SEEDERS:
            module = importlib.import_module(name)
            await module.seed_demo(pool, settings, region)
    finally:
        await pool.close()


#: Modules with `async def seed_demo(pool, settings, region)` that add their rooms' demo data.
DEMO_SEEDERS: tuple[str, ...] = ("scheduler.demo_seed", "monitor.demo_seed")


def _simulator(count: int, region: Region, *, storm: bool = False) -> Runner:
    async def run(settings: Settings, stop: asyncio.Event) -> None:
        from monitor.sim_profile import NORMAL, STORM
        from monitor.simulator import run_simulator

        profile = STORM if storm else NORMAL
        await run_simulator(settings, stop, enterprises=count, profile=profile, region=region)

    return run


def _register_rooms() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise
            continue
        module.register(app)


_register_rooms()


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
