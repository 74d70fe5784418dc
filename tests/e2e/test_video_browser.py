"""Headless Chromium (fake camera and microphone) watches a site through the video panel.

Chromium gathers no loopback ICE candidates, so it runs in a network namespace joined to this
one by a veth pair (shared/FINDINGS.md); the API (uvicorn, in this test's loop) listens on the
host end. The site agent runs in this namespace with the built-in test pattern.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from psycopg_pool import AsyncConnectionPool

from api.app import create_app
from config.settings import Settings
from domain.credit_code import make_credit_code
from domain.video import SessionState
from monitor.broker import free_port
from monitor.video.agent import AgentConfig, SiteAgent, run_agent
from monitor.video.manager import VideoSessionManager
from monitor.video.mqtt import MqttOptions
from tests.conftest import TEST_ADMIN_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

CHROMIUM = "/usr/bin/chromium"
STATIC = Path(__file__).resolve().parents[2] / "api" / "static"
ENT = make_credit_code("330100", 610001)

# The page loads its script from a file, as the dashboard does: the CSP allows no inline script.
PAGE = """<!doctype html><meta charset="utf-8"><title>video e2e</title>
<div id="panel"></div>
<script type="module" src="/ui/video-e2e.js"></script>"""
SCRIPT = """import { mountVideoPanel } from "/static/video.js";
window.startPanel = (token, enterprise) => {
  window.panel = mountVideoPanel(document.getElementById("panel"),
    { enterprise, purpose: "restart_verification", getToken: () => token });
  return true;
};
// Reads the capture time the site's test pattern draws as 64 blocks (48-bit ms + CRC-16).
window.readCode = () => {
  const v = document.querySelector("video");
  const c = document.createElement("canvas");
  c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext("2d");
  g.drawImage(v, 0, 0);
  const block = c.width / 32, bits = [];
  for (let row = 0; row < 2; row++) for (let col = 0; col < 32; col++) {
    const p = g.getImageData(col * block + block / 2, row * block + block / 2, 1, 1).data;
    bits.push(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2] > 128 ? 1 : 0);
  }
  const bytes = [];
  const num = (bs) => bs.reduce((a, b) => a * 2 + b, 0);
  for (let i = 0; i < 6; i++) bytes.push(num(bits.slice(i * 8, i * 8 + 8)));
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let k = 0; k < 8; k++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  const check = num(bits.slice(48));
  const ms = bytes.reduce((a, b) => a * 256 + b, 0);
  return crc === check ? { ms, now: Date.now() } : null;
};
"""


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=10)


@pytest.fixture
def netns() -> Iterator[tuple[str, str, str]]:
    """(namespace, host address, namespace address) of a fresh veth-joined namespace."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("creating a network namespace needs root and iproute2")
    n = os.getpid() % 200 + 20
    name, host_if, ns_if = f"swv{os.getpid()}", f"swv{os.getpid()}a", f"swv{os.getpid()}b"
    host_ip, ns_ip = f"10.231.{n}.1", f"10.231.{n}.2"
    try:
        _ip("netns", "add", name)
        _ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        _ip("link", "set", ns_if, "netns", name)
        _ip("addr", "add", f"{host_ip}/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        _ip("-n", name, "addr", "add", f"{ns_ip}/30", "dev", ns_if)
        _ip("-n", name, "link", "set", ns_if, "up")
        _ip("-n", name, "link", "set", "lo", "up")
    except subprocess.CalledProcessError as exc:
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("netns", "del", name)
        pytest.skip(f"cannot create a network namespace with a veth pair here: {exc.stderr}")
    try:
        yield name, host_ip, ns_ip
    finally:
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True)
        for pid in pids.stdout.split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)  # our own Chromium, if it lingers
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("netns", "del", name)
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "del", host_if)


@pytest.fixture
async def site(settings: Settings, pool: AsyncConnectionPool) -> AsyncIterator[SiteAgent]:
    """The enterprise in the directory and its agent serving the test pattern."""
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO enterprises (credit_code, name, county, sector)"
            " VALUES (%(c)s, '浏览器测试化工', '西湖区', 'chemical')",
            {"c": ENT},
        )
    stop = asyncio.Event()
    ready: asyncio.Future[SiteAgent] = asyncio.get_running_loop().create_future()
    config = AgentConfig(enterprise=ENT, topic_prefix=settings.mqtt_topic_prefix)
    options = MqttOptions(host=settings.mqtt_host, port=settings.mqtt_port, client_id="e2e-agent")
    task = asyncio.create_task(run_agent(config, options, stop, ready=ready))
    yield await asyncio.wait_for(ready, 10)
    stop.set()
    await asyncio.wait_for(task, 10)


@pytest.fixture
async def server(
    netns: tuple[str, str, str], settings: Settings, pool: AsyncConnectionPool
) -> AsyncIterator[tuple[str, FastAPI]]:
    """The API with the video panel test page, on the host end of the veth pair."""
    app = create_app(settings, pool=pool)
    if not any(getattr(r, "path", "").startswith("/static") for r in app.routes):
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # under /ui/ like the dashboard, whose Permissions-Policy lets it use camera and microphone
    app.add_api_route("/ui/video-e2e", lambda: HTMLResponse(PAGE), include_in_schema=False)
    app.add_api_route(
        "/ui/video-e2e.js",
        lambda: Response(SCRIPT, media_type="text/javascript"),
        include_in_schema=False,
    )
    host = netns[1]
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    task = asyncio.create_task(srv.serve())
    for _ in range(200):
        if srv.started:
            break
        await asyncio.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://{host}:{port}", app
    srv.should_exit = True
    await asyncio.wait_for(task, 15)


async def launch_in_netns(pw: Any, namespace: str, base: str, tmp_path: Path) -> Any:
    """Headless Chromium inside the namespace, with a fake camera and microphone."""
    wrapper = tmp_path / "chromium-in-netns"
    wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {namespace} {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--unsafely-treat-insecure-origin-as-secure={base}",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    return await pw.chromium.launch(executable_path=str(wrapper), args=args, headless=True)


async def until_true(page: Any, predicate: str, within_s: float = 10.0) -> None:
    """Poll a predicate through page.evaluate (wait_for_function evals in the page, and the
    page's CSP forbids eval), failing after `within_s` seconds."""
    deadline = asyncio.get_running_loop().time() + within_s
    while not await page.evaluate(predicate):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still false after {within_s} s: {predicate}")
        await asyncio.sleep(0.05)


def diagnose(manager: VideoSessionManager) -> list[dict[str, object]]:
    """What the server side of each open session is doing (for failure messages)."""
    out: list[dict[str, object]] = []
    for live in manager.open_sessions():
        out.append(
            {
                "state": live.state.value,
                "site_frames": live.frames,
                "site_pc": live.site_pc.connectionState if live.site_pc else None,
                "viewers": [
                    (v.pc.connectionState, getattr(v.video, "frames", None))
                    for v in live.viewers.values()
                ],
            }
        )
    return out


async def test_browser_watches_the_site_and_talks_back(
    netns: tuple[str, str, str], server: tuple[str, FastAPI], site: SiteAgent, tmp_path: Path
):
    from playwright.async_api import async_playwright

    base, app = server
    async with httpx.AsyncClient(base_url=base) as http:
        res = await http.post(
            "/api/v1/auth/token", data={"username": "admin", "password": TEST_ADMIN_PASSWORD}
        )
        token = res.json()["access_token"]
    manager: VideoSessionManager = app.state.video
    async with async_playwright() as pw:
        browser = await launch_in_netns(pw, netns[0], base, tmp_path)
        try:
            page = await browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(f"{base}/ui/video-e2e")
            await until_true(page, "() => typeof window.startPanel === 'function'")
            await page.evaluate("([t, e]) => window.startPanel(t, e)", [token, ENT])
            await page.click(".swv-request")
            stats: dict[str, int] = {}
            for _ in range(250):
                stats = await page.evaluate("() => window.panel.stats()")
                if stats["framesDecoded"] >= 45:
                    break
                await asyncio.sleep(0.1)
            assert stats["framesDecoded"] >= 45, (stats, diagnose(manager), errors)
            assert await page.evaluate("() => window.panel.video.videoWidth") == 640
            assert stats["frameWidth"] == 640
            stamp = await page.evaluate("() => window.readCode()")
            assert stamp is not None, "the pattern's time code is not readable in the browser"
            assert 0 <= stamp["now"] - stamp["ms"] < 1500
            assert await page.locator(".swv-rec").is_visible()
            assert "直播中" in (await page.locator(".swv-state").inner_text())

            sid = await page.evaluate("() => window.panel.session.id")
            site_side = site.sessions[sid]
            await page.locator(".swv-talk").dispatch_event("pointerdown")
            for _ in range(100):
                if site_side.talkback.voiced_frames >= 10:
                    break
                await asyncio.sleep(0.1)
            assert site_side.talkback.voiced_frames >= 10, (
                "browser microphone never reached the site"
            )
            await page.locator(".swv-talk").dispatch_event("pointerup")

            await page.click(".swv-snapshot")
            await until_true(page, "() => document.querySelector('.swv-shot').naturalWidth === 640")
            await page.click(".swv-hangup")
            await until_true(
                page, "() => document.querySelector('.swv-state').textContent.includes('已结束')"
            )
            assert errors == []
        finally:
            await browser.close()
    row = await manager._store.get(sid)
    assert row is not None
    assert row.state is SessionState.ENDED
    assert row.recording_bytes
    assert manager.live(sid) is None
