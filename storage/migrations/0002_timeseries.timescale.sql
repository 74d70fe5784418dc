-- safewatch: no-transaction
-- Time-series tables on TimescaleDB: hypertables (1-day chunks) with compression and an hourly
-- continuous aggregate named like the native rollup table, so queries work unchanged on both.
-- Retention is configured at start from settings (storage/timeseries.py).
-- Statements are separated by lines holding only ';;' because this file runs in autocommit.

CREATE EXTENSION IF NOT EXISTS timescaledb
;;
CREATE TABLE events (
    ts            timestamptz NOT NULL,
    enterprise_id text        NOT NULL,
    event_id      text        NOT NULL,
    type          text        NOT NULL,
    payload       jsonb       NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (enterprise_id, event_id, ts)
)
;;
SELECT create_hypertable('events', by_range('ts', INTERVAL '7 days'))
;;
CREATE INDEX events_ent_ts ON events (enterprise_id, ts DESC)
;;
ALTER TABLE events SET (timescaledb.compress, timescaledb.compress_segmentby = 'enterprise_id')
;;
SELECT add_compression_policy('events', INTERVAL '30 days')
;;
CREATE TABLE telemetry (
    ts            timestamptz      NOT NULL,
    enterprise_id text             NOT NULL,
    tag           text             NOT NULL,
    value         double precision,
    quality       text             NOT NULL DEFAULT 'good'
)
;;
SELECT create_hypertable('telemetry', by_range('ts', INTERVAL '1 day'))
;;
CREATE INDEX telemetry_ent_tag_ts ON telemetry (enterprise_id, tag, ts DESC)
;;
ALTER TABLE telemetry SET (timescaledb.compress, timescaledb.compress_segmentby = 'enterprise_id, tag')
;;
SELECT add_compression_policy('telemetry', INTERVAL '7 days')
;;
CREATE MATERIALIZED VIEW telemetry_hourly WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 hour', ts) AS bucket, enterprise_id, tag,
       avg(value) AS avg_value, min(value) AS min_value, max(value) AS max_value,
       count(*) AS n
  FROM telemetry
 GROUP BY 1, 2, 3
WITH NO DATA
;;
SELECT add_continuous_aggregate_policy('telemetry_hourly',
    start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '30 minutes')
;;
-- No-op stand-ins so that maintenance code may call the same functions on both paths.
CREATE OR REPLACE FUNCTION sw_ensure_partitions(months_back int DEFAULT 1, months_ahead int DEFAULT 3)
RETURNS integer LANGUAGE sql AS $$ SELECT 0 $$
