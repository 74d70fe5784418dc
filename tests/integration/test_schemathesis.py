"""A bounded schemathesis run against the OpenAPI schema, signed in as admin: no 5xx, and every
response conforms to the schema (status code, content type, headers, body)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from config.settings import Settings
from tests.conftest import TEST_ADMIN_PASSWORD
from tests.integration.apiclient import seed
from tests.integration.liveserver import ServerThread

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 12
BUDGET_S = 90.0  # a guard against runaway runs; typically 15-30 s on this machine


@pytest.fixture
def server(settings: Settings, db_url: str) -> Iterator[ServerThread]:
    seed(db_url, 5)
    srv = ServerThread(create_app(settings)).start()
    yield srv
    srv.stop()


def test_schema_run_finds_no_server_errors_or_violations(server: ServerThread) -> None:
    token = httpx.post(
        server.url + "/api/v1/auth/token",
        data={"username": "admin", "password": TEST_ADMIN_PASSWORD},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    failures: list[str] = []
    calls: list[str] = []
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def exercise(case: schemathesis.Case) -> None:
            calls.append(case.operation.label)
            case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS)

        try:
            exercise()
        except (Exception, BaseExceptionGroup) as exc:  # report every operation's failures
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    elapsed = time.monotonic() - started
    assert not failures, "\n\n".join(failures)
    assert len(set(calls)) == len(operations), "some operations were never exercised"
    assert len(calls) >= 2 * len(operations)
    assert elapsed < BUDGET_S, f"schemathesis run took {elapsed:.0f} s"
