"""Fixtures for dashboard browser tests: a live server, demo data, headless Debian Chromium."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from api.app import create_app
from config.settings import Settings
from tests.conftest import TEST_ADMIN_PASSWORD
from tests.integration.liveserver import ServerThread

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium driven by Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.fail("no /usr/bin/chromium (apt-get install -y chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def server(settings: Settings) -> Iterator[ServerThread]:
    """The API and dashboard on a free port."""
    srv = ServerThread(create_app(settings)).start()
    yield srv
    srv.stop()


@pytest.fixture
def page(browser: Browser, server: ServerThread) -> Iterator[Page]:
    """A fresh browser page (zh-CN) that fails the test on any JavaScript error."""
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1440, "height": 900}
    )
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.set_default_timeout(5000)
    yield p
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def sign_in(
    page: Page, server: ServerThread, username: str = "admin", password: str = TEST_ADMIN_PASSWORD
) -> None:
    """Open the dashboard and sign in through the form."""
    page.goto(server.url + "/ui/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#nav:not([hidden])")


def shot(page: Page, name: str) -> None:
    """Keep a full-page screenshot as a test artefact."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


class MonitorThread:
    """The MQTT ingest (monitor) running in a background thread with its own loop and pool."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ready = threading.Event()
        self.failed: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="monitor", daemon=True)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_event: asyncio.Event | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to the test by start()
            self.failed = exc
            self.ready.set()

    async def _main(self) -> None:
        from monitor.ingest import Ingest
        from storage.pool import make_pool

        self.loop = asyncio.get_running_loop()
        self.stop_event = asyncio.Event()
        pool = make_pool(self.settings.database_url, min_size=1, max_size=4)
        await pool.open(wait=True)
        try:
            ingest = Ingest(self.settings, pool, client_id=f"e2e-{time.monotonic_ns()}")
            task = asyncio.create_task(ingest.run(self.stop_event))
            if not await ingest.client.wait_connected(30):
                raise RuntimeError("ingest did not connect to the broker")
            if not await ingest.client.wait_subscribed(30):
                raise RuntimeError("the broker did not grant the ingest's subscription")
            self.ready.set()
            await task
        finally:
            await pool.close()

    def start(self) -> MonitorThread:
        """Start and wait until the ingest is subscribed."""
        self.thread.start()
        if not self.ready.wait(20) or self.failed is not None:
            raise RuntimeError(f"monitor did not start: {self.failed!r}")
        return self

    def stop(self) -> None:
        """Stop the ingest and wait for it."""
        if self.loop is not None and self.stop_event is not None:
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(20)


@pytest.fixture
def monitor(settings: Settings, server: ServerThread) -> Iterator[MonitorThread]:
    """The monitor process's ingest, consuming from the test's broker and topic prefix."""
    m = MonitorThread(settings).start()
    yield m
    m.stop()
