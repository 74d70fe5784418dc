"""A write is committed before its response starts: a client that reads right after the answer
(the phone re-listing its rectification orders after an upload) sees the whole write, never half
of it. FastAPI's default dependency scope ran the connection's exit (the commit) after the
response had been sent; `ConnDep` uses scope="function"."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi.testclient import TestClient

from api.app import create_app
from config.settings import Settings
from tests.integration.apiclient import role_headers, seed

TEXT = "请立即对罐区重新进行气体分析。"


def test_the_write_is_visible_to_another_connection_when_the_response_starts(
    settings: Settings, db_url: str
) -> None:
    app = create_app(settings)
    seen: list[int] = []

    async def probe(scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def watch(message: dict[str, Any]) -> None:
            if (
                message["type"] == "http.response.start"
                and scope["method"] == "POST"
                and scope["path"].endswith("/guidance")
            ):
                with psycopg.connect(db_url) as conn:  # another session, as the next request
                    row = conn.execute(
                        "SELECT count(*) FROM downlinks WHERE text = %s", (TEXT,)
                    ).fetchone()
                assert row is not None
                seen.append(int(row[0]))
            await send(message)

        await app(scope, receive, watch)

    code = seed(db_url, 1)[0]
    with TestClient(probe) as client:
        duty = role_headers(client, db_url, code)["duty"]
        res = client.post(
            f"/api/v1/enterprises/{code}/guidance",
            json={"text": TEXT, "requires_ack": True},
            headers=duty,
        )
    assert res.status_code == 201, res.text
    assert seen == [1]
