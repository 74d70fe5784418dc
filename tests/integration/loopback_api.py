"""`python -m tests.integration.loopback_api api`: the safewatch command in a process whose aioice
gathers 127.0.0.1 (it skips loopback, FINDINGS.md), so API replicas can run WebRTC on loopback."""

from __future__ import annotations

import aioice.ice

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

from safewatch import app  # noqa: E402 - after the patch, like the test fixture's

if __name__ == "__main__":
    app()
