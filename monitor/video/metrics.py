"""Prometheus metrics of live video (served by the API's /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SESSIONS_OPEN = Gauge("safewatch_video_sessions_open", "Video sessions open in this process")
SESSIONS_ENDED = Counter(
    "safewatch_video_sessions_total", "Video sessions closed, by outcome", ["outcome"]
)
VIEWERS = Gauge("safewatch_video_viewers", "Viewers connected to this process's sessions")
REQUEST_TO_LIVE = Histogram(
    "safewatch_video_request_to_live_seconds",
    "From asking the site to its first video frame",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 20),
)
RECORDED_BYTES = Counter("safewatch_video_recorded_bytes_total", "Bytes of recordings kept")
