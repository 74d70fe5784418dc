"""`safewatch conformance` against the reference client (passes) and against a client that
breaks the rules (fails, with a checklist that says which and why). Each run starts its own
Mosquitto with the production configuration."""

from __future__ import annotations

import sys
from pathlib import Path

from typer.testing import CliRunner

from safewatch import app

ROOT = Path(__file__).resolve().parents[2]
BAD_SITE = ROOT / "tests" / "fixtures" / "sites" / "rule_breaking_site.py"
#: Short, so the test runs in seconds: the agent heartbeats every second, the limit is 3 s.
QUICK = ["--observe-s", "9", "--heartbeat-limit-s", "3", "--ack-timeout-s", "10"]


def test_the_reference_agent_passes(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"type": "shutdown", "scope": "plant", "reason": "conformance"}')
    agent = (
        f"{sys.executable} {ROOT / 'safewatch.py'} agent --enterprise {{ent}} --mqtt-url {{url}} "
        f"--mqtt-username {{username}} --presence --heartbeat-s 1 --event @{event} --stay "
        "--talkback discard"
    )
    result = CliRunner().invoke(app, ["conformance", "--client", agent, *QUICK])
    print(result.output)  # noqa: T201 - the checklist, for the log
    assert result.exit_code == 0, result.output
    assert "[FAIL]" not in result.output
    assert "11 checks: 11 passed, 0 failed" in result.output
    assert result.output.rstrip().endswith("CONFORMANT")


def test_a_rule_breaking_client_fails_with_a_readable_checklist() -> None:
    result = CliRunner().invoke(
        app, ["conformance", "--client", f"{sys.executable} {BAD_SITE}", *QUICK]
    )
    out = result.output
    print(out)  # noqa: T201
    assert result.exit_code == 1, out
    assert out.rstrip().endswith("NOT CONFORMANT")
    failed = {line.split(". ", 1)[1] for line in out.splitlines() if line.startswith("[FAIL]")}
    assert any(f.startswith("publishes presence") for f in failed), out
    assert any(f.startswith("every uplink passes") for f in failed), out
    assert "timestamp_invalid" in out  # the reason is the service's own reject code
    assert any(f.startswith("events, commitments, presence and acks") for f in failed), out
    assert any(f.startswith("event ids are never reused") for f in failed), out
    assert "e-2" in out
    assert any(f.startswith("acknowledges a guidance") for f in failed), out
    assert any(f.startswith("a sign of life") for f in failed), out
    assert any(f.startswith("on SIGTERM") for f in failed), out
    assert any(f.startswith("last will") for f in failed), out
    assert "[PASS]  1. connects" in out
