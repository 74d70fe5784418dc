"""`safewatch agent`: the site agent as a console command."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from domain.credit_code import credit_code_problem
from domain.errors import ConfigurationError, SafewatchError, ValidationFailed
from monitor.site_outbox import Outbox
from monitor.video.agent import AgentConfig, run_agent
from monitor.video.ice import parse_ice_servers
from monitor.video.mqtt import MqttOptions
from monitor.video.sources import check_camera

#: The agent runs on site machines, not the server: its own environment prefix keeps it apart
#: from SAFEWATCH_* (which the server refuses when unknown).
ENV = "SWAGENT_"
#: The persistent session's expiry (docs/protocol.md, "Connecting": 7 days).
SESSION_EXPIRY_S = 7 * 24 * 3600


def register(app: typer.Typer) -> None:
    """Add the `agent` command to the safewatch CLI."""
    app.command("agent")(agent)


def _load_event(text: str) -> dict[str, Any]:
    raw = Path(text[1:]).read_text("utf-8") if text.startswith("@") else text
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("an event must be a JSON object")
    return value


def agent(
    enterprise: Annotated[str, typer.Option("--enterprise", "-e", help="the site's credit code")],
    camera: Annotated[
        str, typer.Option(help="pattern[:WxH@FPS] (default), rtsp://…, /dev/videoN or a file")
    ] = "pattern",
    mqtt_url: Annotated[str, typer.Option(envvar=f"{ENV}MQTT_URL")] = "mqtt://127.0.0.1:1883",
    mqtt_username: Annotated[str | None, typer.Option(envvar=f"{ENV}MQTT_USERNAME")] = None,
    mqtt_password: Annotated[
        str | None, typer.Option(envvar=f"{ENV}MQTT_PASSWORD", help="prefer the env variable")
    ] = None,
    mqtt_ca_file: Annotated[
        str | None,
        typer.Option(envvar=f"{ENV}MQTT_CA_FILE", help="CA of the broker certificate (mqtts://)"),
    ] = None,
    topic_prefix: Annotated[str, typer.Option(envvar=f"{ENV}TOPIC_PREFIX")] = "safewatch/v1",
    ice_server: Annotated[
        list[str] | None,
        typer.Option(help="stun:host:port or turn:user:pass@host:port (repeat); none by default"),
    ] = None,
    talkback: Annotated[
        str,
        typer.Option(help="what to do with the duty officer's voice: discard, play, record:PATH"),
    ] = "play",
    event: Annotated[
        list[str] | None,
        typer.Option(help="publish this operation event (JSON or @file.json; repeat), then exit"),
    ] = None,
    stay: Annotated[bool, typer.Option(help="with --event: keep serving video afterwards")] = False,
    outbox: Annotated[
        Path | None,
        typer.Option(
            help="keep events in this file until the broker has them (sent again, with the "
            "same ids, after a crash)"
        ),
    ] = None,
    presence: Annotated[
        bool,
        typer.Option(
            help="publish retained presence with a last will, a heartbeat and a planned stop"
        ),
    ] = False,
    heartbeat_s: Annotated[
        float, typer.Option(min=1.0, max=60.0, help="with --presence: seconds between heartbeats")
    ] = 60.0,
    log_level: Annotated[str, typer.Option(envvar=f"{ENV}LOG_LEVEL")] = "INFO",
) -> None:
    """Site agent: answer video requests for ENTERPRISE over MQTT; optionally report events."""
    logging.basicConfig(
        level=log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        problem = credit_code_problem(enterprise)
        if problem is not None:
            raise ValidationFailed(f"--enterprise refused: {problem}")
        check_camera(camera)
        url = urlsplit(mqtt_url)
        if url.scheme not in ("mqtt", "mqtts"):
            raise ConfigurationError("--mqtt-url must start with mqtt:// or mqtts://")
        config = AgentConfig(
            enterprise=enterprise,
            camera=camera,
            topic_prefix=topic_prefix,
            ice_servers=tuple(parse_ice_servers(ice_server or [])),
            talkback=talkback,
            heartbeat_s=heartbeat_s,
        )
        options = MqttOptions(
            host=url.hostname or "127.0.0.1",
            port=url.port or (8883 if url.scheme == "mqtts" else 1883),
            # The sites' listener replaces it with the user name (one session per account).
            client_id=f"site-{enterprise}",
            username=mqtt_username,
            password=mqtt_password,
            tls=url.scheme == "mqtts",
            ca_file=mqtt_ca_file,
            session_expiry_s=SESSION_EXPIRY_S,
        )
        events = [_load_event(e) for e in event or []]
    except (SafewatchError, ValueError, OSError) as exc:
        typer.echo(f"agent: {getattr(exc, 'message', exc)}", err=True)
        raise typer.Exit(2) from exc
    try:
        box = Outbox(outbox) if outbox is not None else None
        asyncio.run(
            _main(config, options, events, stay=stay or not events, presence=presence, outbox=box)
        )
    except SafewatchError as exc:
        typer.echo(f"agent: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    if events:
        typer.echo(f"published {len(events)} event(s)")


async def _main(
    config: AgentConfig,
    options: MqttOptions,
    events: list[dict[str, Any]],
    *,
    stay: bool,
    presence: bool,
    outbox: Outbox | None = None,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if not stay:
        stop.set()
    os.environ.pop(f"{ENV}MQTT_PASSWORD", None)  # not inherited by anything we spawn
    await run_agent(config, options, stop, events=events, presence=presence, outbox=outbox)
