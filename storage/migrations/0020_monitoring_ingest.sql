-- Remote monitoring, ingest side: exactly-once keys and refused messages.

-- `events` is partitioned with a key that includes ts, so it cannot enforce (enterprise, event id)
-- on its own; this small table can. A key is inserted in the same transaction as the event, so a
-- redelivered message finds its key and is stored once. Keys older than the redelivery horizon
-- are pruned by the scheduler (storage/monitoring_ingest.py PRUNE_EVENT_KEYS).
CREATE TABLE event_keys (
    enterprise_id text        NOT NULL,
    event_id      text        NOT NULL,
    digest        bytea       NOT NULL,
    ts            timestamptz NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (enterprise_id, event_id)
);
CREATE INDEX event_keys_received ON event_keys USING brin (received_at);

-- Telemetry has no id: a message is identified by the digest of its payload (identical payloads
-- of one enterprise carry identical readings), so a redelivery is stored once.
CREATE TABLE telemetry_keys (
    enterprise_id text        NOT NULL,
    digest        bytea       NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (enterprise_id, digest)
);
CREATE INDEX telemetry_keys_received ON telemetry_keys USING brin (received_at);

-- Every refused uplink message: where, why, and the start of its raw payload.
CREATE TABLE rejected_messages (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at   timestamptz NOT NULL DEFAULT now(),
    topic         text        NOT NULL,
    enterprise_id text,
    code          text        NOT NULL,
    reason        text        NOT NULL,
    ref           text,
    payload       bytea       NOT NULL,
    payload_size  integer     NOT NULL
);
CREATE INDEX rejected_messages_received ON rejected_messages (received_at DESC);
CREATE INDEX rejected_messages_ent ON rejected_messages (enterprise_id, received_at DESC);
CREATE INDEX rejected_messages_code ON rejected_messages (code, received_at DESC);
