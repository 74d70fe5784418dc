"""Prometheus metrics of the ingest (served by /metrics when the API runs in the same process)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter("safewatch_mqtt_messages_total", "Uplink messages received, by kind", ["kind"])
REJECTED = Counter(
    "safewatch_mqtt_rejected_total", "Uplink messages refused, by reject code", ["code"]
)
DUPLICATES = Counter(
    "safewatch_mqtt_duplicates_total", "Redelivered messages recognised and stored once", ["kind"]
)
EVENTS_STORED = Counter("safewatch_events_stored_total", "Operation events stored")
POINTS_STORED = Counter("safewatch_telemetry_points_stored_total", "Telemetry points stored")
DROPPED_QOS0 = Counter(
    "safewatch_mqtt_qos0_dropped_total", "QoS 0 messages dropped because the queue was full"
)
BATCH_SECONDS = Histogram(
    "safewatch_ingest_batch_seconds",
    "Time to store one batch (transaction included)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
BATCH_SIZE = Histogram(
    "safewatch_ingest_batch_messages",
    "Messages per stored batch",
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000),
)
DB_RETRIES = Counter(
    "safewatch_ingest_db_retries_total", "Batches retried because the database was unavailable"
)
QUEUE_DEPTH = Gauge("safewatch_ingest_queue_depth", "Messages received and not yet stored")
CONNECTED = Gauge("safewatch_mqtt_connected", "1 while the ingest is connected to the broker")
DOWNLINKS_SENT = Counter(
    "safewatch_downlinks_published_total", "Guidance and notices published", ["channel"]
)
REPLAYS = Counter(
    "safewatch_event_replays_total",
    "Enterprise states replayed in event-time order because an event arrived late",
)
EVENTS_BEYOND_HORIZON = Counter(
    "safewatch_events_beyond_horizon_total",
    "Late events older than the replay horizon (stored and flagged, not applied)",
)
