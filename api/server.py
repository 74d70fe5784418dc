"""Running the API under uvicorn inside an existing event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import uvicorn

from config.policy import Policies
from config.settings import Settings

log = logging.getLogger(__name__)


class QuietServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the process owner decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def uvicorn_config(app: Any, *, host: str, port: int, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration as production uses it: no `Server: uvicorn` header (it only
    tells a scanner which exploits to try), lifespan on, the sans-I/O WebSocket stack."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        ws="websockets-sansio",
        server_header=False,
        **options,
    )


async def run_api(
    settings: Settings, stop: asyncio.Event, *, policies: Policies | None = None
) -> None:
    """Serve the API until `stop` is set, then shut uvicorn down gracefully."""
    from api.app import create_app

    config = uvicorn_config(
        create_app(settings, policies=policies),
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        # The process's own logging (text or JSON lines) instead of uvicorn's dictConfig.
        log_config=None,
        proxy_headers=True,
    )
    await serve_until(
        QuietServer(config), stop, f"api on {settings.http_host}:{settings.http_port}"
    )


async def serve_until(server: uvicorn.Server, stop: asyncio.Event, what: str) -> None:
    """Run a uvicorn server until `stop` is set, then shut it down gracefully."""
    task = asyncio.create_task(server.serve())
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if stopper in done:
        server.should_exit = True
    else:
        stopper.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    if not server.started and task.done() and not stop.is_set():
        raise RuntimeError(f"{what} failed to start")
