"""Headless Chromium (fake camera): duty staff ask for video, the enterprise answers from the
phone page (390×844, touch) instead of a site agent; the duty panel shows the frames, the
session goes live and its recording is kept — the same session, relay and recording.

Runs in the network namespace of tests/e2e/test_video_browser.py (Chromium gathers no loopback
ICE candidates; shared/FINDINGS.md)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from domain.credit_code import make_credit_code
from domain.video import SessionState
from monitor.video.manager import VideoSessionManager
from tests.conftest import TEST_ADMIN_PASSWORD
from tests.e2e.test_video_browser import diagnose, launch_in_netns, netns, server, until_true
from tests.integration.apiclient import PASSWORD, add_user

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]
__all__ = ["netns", "server"]  # fixtures shared with the agent's browser test

ENT = make_credit_code("652301", 610002)


async def test_the_phone_answers_a_video_request_and_the_duty_panel_records_it(
    netns: tuple[str, str, str],
    server: tuple[str, FastAPI],
    pool: AsyncConnectionPool,
    db_url: str,
    tmp_path: Path,
) -> None:
    from playwright.async_api import async_playwright

    base, app = server
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO enterprises (credit_code, name, county, sector)"
            " VALUES (%(c)s, '手机视频测试化工', '昌吉市', 'chemical')",
            {"c": ENT},
        )
    add_user(db_url, "phone_ent", "enterprise", ENT)
    async with httpx.AsyncClient(base_url=base) as http:
        res = await http.post(
            "/api/v1/auth/token", data={"username": "admin", "password": TEST_ADMIN_PASSWORD}
        )
        token = res.json()["access_token"]
    manager: VideoSessionManager = app.state.video
    async with async_playwright() as pw:
        browser = await launch_in_netns(pw, netns[0], base, tmp_path)
        try:
            errors: list[str] = []
            duty = await browser.new_page()
            duty.on("pageerror", lambda e: errors.append(f"duty: {e}"))
            await duty.goto(f"{base}/ui/video-e2e")
            await until_true(duty, "() => typeof window.startPanel === 'function'")
            await duty.evaluate("([t, e]) => window.startPanel(t, e)", [token, ENT])
            await duty.click(".swv-request")

            phone_ctx = await browser.new_context(
                viewport={"width": 390, "height": 844},
                is_mobile=True,
                has_touch=True,
                locale="zh-CN",
                permissions=["camera"],
            )
            phone = await phone_ctx.new_page()
            phone.on("pageerror", lambda e: errors.append(f"phone: {e}"))
            await phone.goto(f"{base}/ui/m/")
            await phone.fill("input[name=username]", "phone_ent")
            await phone.fill("input[name=password]", PASSWORD)
            await phone.tap("#login-form button[type=submit]")
            await phone.wait_for_selector("#video-call:not([hidden])", timeout=15000)
            await phone.tap("#call-answer")
            await phone.wait_for_selector("#call-hangup:not([hidden])", timeout=15000)
            # the server's talkback audio track reaches the phone's speaker element
            await until_true(phone, "() => !!document.querySelector('#call-audio').srcObject")

            stats: dict[str, int] = {}
            for _ in range(250):
                stats = await duty.evaluate("() => window.panel.stats()")
                if stats["framesDecoded"] >= 30:
                    break
                await phone.wait_for_timeout(100)
            assert stats["framesDecoded"] >= 30, (stats, diagnose(manager), errors)
            assert "直播中" in (await duty.locator(".swv-state").inner_text())
            assert await duty.locator(".swv-rec").is_visible()
            sid = await duty.evaluate("() => window.panel.session.id")
            await duty.click(".swv-hangup")
            await until_true(
                duty, "() => document.querySelector('.swv-state').textContent.includes('已结束')"
            )
            assert errors == []
        finally:
            await browser.close()
    row = await manager._store.get(sid)
    assert row is not None
    assert row.state is SessionState.ENDED
    assert row.recording_bytes
