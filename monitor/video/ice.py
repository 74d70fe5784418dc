"""ICE server configuration: no public STUN unless configured (see docs/video.md for TURN)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aiortc import RTCConfiguration, RTCIceServer

from domain.errors import ConfigurationError

SCHEMES = frozenset({"stun", "stuns", "turn", "turns"})


@dataclass(frozen=True, slots=True)
class IceServer:
    """One STUN or TURN server; TURN carries a username and credential."""

    url: str
    username: str | None = None
    credential: str | None = None

    def as_browser(self) -> dict[str, Any]:
        """The RTCIceServer dictionary a browser's RTCPeerConnection takes."""
        out: dict[str, Any] = {"urls": [self.url]}
        if self.username is not None:
            out["username"] = self.username
            out["credential"] = self.credential or ""
        return out


def parse_ice_server(text: str) -> IceServer:
    """Parse `stun:host:port` or `turn:user:password@host:port[?transport=udp|tcp]`."""
    scheme, sep, rest = text.strip().partition(":")
    if not sep or scheme not in SCHEMES or not rest:
        raise ConfigurationError(
            f"ICE server {text!r} must look like stun:host:port or turn:user:password@host:port"
        )
    username = credential = None
    if "@" in rest:
        creds, rest = rest.rsplit("@", 1)
        user, colon, secret = creds.partition(":")
        if not colon or not user:
            raise ConfigurationError(
                f"ICE server {scheme}:…@{rest}: credentials must be user:password"
            )
        username, credential = unquote(user), unquote(secret)
    if scheme.startswith("turn") and username is None:
        raise ConfigurationError(
            f"TURN server {scheme}:{rest} needs user:password@ before the host"
        )
    host = rest.split("?", 1)[0]
    if not host or host.startswith(":"):
        raise ConfigurationError(f"ICE server {text!r} has no host")
    return IceServer(url=f"{scheme}:{rest}", username=username, credential=credential)


def parse_ice_servers(values: Sequence[str]) -> list[IceServer]:
    """Parse every configured ICE server (settings.ice_servers)."""
    return [parse_ice_server(v) for v in values]


def rtc_configuration(servers: Sequence[IceServer]) -> RTCConfiguration:
    """aiortc configuration with exactly `servers` (none: host candidates only, no public STUN)."""
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=s.url, username=s.username, credential=s.credential) for s in servers
        ]
    )
