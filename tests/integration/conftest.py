"""Fixtures shared by the integration tests that need the real server on a socket."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from api.app import create_app
from config.settings import Settings
from tests.conftest import TEST_ADMIN_PASSWORD
from tests.integration.liveserver import ServerThread


@pytest.fixture
def live_server(settings: Settings) -> Iterator[ServerThread]:
    """The app under uvicorn on a free port, configured as production runs it."""
    srv = ServerThread(create_app(settings)).start()
    yield srv
    srv.stop()


def bearer(server: ServerThread, username: str = "admin", password: str = "") -> dict[str, str]:
    """Authorization headers for an account signed in through the real server."""
    res = httpx.post(
        server.url + "/api/v1/auth/token",
        data={"username": username, "password": password or TEST_ADMIN_PASSWORD},
    )
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}
