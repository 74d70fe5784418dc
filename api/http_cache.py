"""Strong ETags and Cache-Control for what the public reads on publication day.

A strong ETag is a digest of the exact bytes sent, so a proxy or browser holding them can ask
`If-None-Match` and get a body-less 304. Published draw documents never change, so their tags
are also remembered per process: a revalidation of one is answered without the database.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

#: Immutable bytes (a published draw's canonical document): cache for a year, never revalidate.
IMMUTABLE = "public, max-age=31536000, immutable"
#: Public pages that change when new results are published: short shared caching, then revalidate.
SHORT_PUBLIC = "public, max-age=60"
#: Unversioned assets (index.html names /static/app.js): always revalidate, a 304 when unchanged.
REVALIDATE = "no-cache"


def strong_etag(body: bytes) -> str:
    """A strong entity tag for `body` (128 bits of SHA-256)."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(request: Request, etag: str) -> bool:
    """Whether If-None-Match names `etag` (weak comparison, as RFC 9110 §13.1.2 asks)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def not_modified(etag: str, cache_control: str) -> Response:
    """A 304 carrying the validators a cache needs to keep using its copy."""
    return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache_control})


def cached(
    request: Request,
    body: bytes,
    *,
    media_type: str,
    cache_control: str,
    etag: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """`body` with a strong ETag and Cache-Control, or a 304 when the client already has it."""
    tag = etag or strong_etag(body)
    if matches(request, tag):
        return not_modified(tag, cache_control)
    out = {"ETag": tag, "Cache-Control": cache_control, **(headers or {})}
    return Response(body, media_type=media_type, headers=out)


class ImmutableTags:
    """ETags of immutable resources by key, remembered so a 304 needs no database read."""

    def __init__(self, max_entries: int = 10_000) -> None:
        """An LRU of at most `max_entries` tags."""
        self._tags: OrderedDict[object, str] = OrderedDict()
        self._max = max_entries

    def get(self, key: object) -> str | None:
        """The remembered tag of `key`, if any."""
        tag = self._tags.get(key)
        if tag is not None:
            self._tags.move_to_end(key)
        return tag

    def put(self, key: object, tag: str) -> None:
        """Remember `tag` for an immutable resource."""
        self._tags[key] = tag
        self._tags.move_to_end(key)
        while len(self._tags) > self._max:
            self._tags.popitem(last=False)


class StaticFiles:
    """Package assets read once per file version, with strong ETags (a 304 costs no I/O)."""

    def __init__(self) -> None:
        """An empty cache; files are read on first use and again when their mtime changes."""
        self._files: dict[Path, tuple[float, bytes, str]] = {}

    def load(self, path: Path) -> tuple[bytes, str]:
        """The bytes of `path` and their tag."""
        mtime = path.stat().st_mtime
        found = self._files.get(path)
        if found is None or found[0] != mtime:
            body = path.read_bytes()
            found = (mtime, body, strong_etag(body))
            self._files[path] = found
        return found[1], found[2]

    def response(
        self,
        request: Request,
        path: Path,
        *,
        media_type: str,
        cache_control: str = REVALIDATE,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """The asset as a cacheable response (or a 304)."""
        body, tag = self.load(path)
        return cached(
            request,
            body,
            media_type=media_type,
            cache_control=cache_control,
            etag=tag,
            headers=headers,
        )


#: One per process: the package's assets never change while it runs (mtime is checked anyway).
STATIC_FILES = StaticFiles()
