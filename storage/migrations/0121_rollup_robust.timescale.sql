-- safewatch: no-transaction
-- The hourly continuous aggregate leaves out values beyond ±1e12 (config/monitoring.yaml
-- ingest.max_abs_value): readings of 1.7e308 stored before values were bounded made every
-- refresh of their hour fail with "value out of range: overflow" for all enterprises.
-- A continuous aggregate's query cannot be altered, so it is recreated and refreshed over the
-- raw data that is still kept (hours whose raw chunks retention already dropped are gone).
DROP MATERIALIZED VIEW IF EXISTS telemetry_hourly
;;
CREATE MATERIALIZED VIEW telemetry_hourly WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 hour', ts) AS bucket, enterprise_id, tag,
       avg(value) AS avg_value, min(value) AS min_value, max(value) AS max_value,
       count(*) AS n
  FROM telemetry
 WHERE value IS NULL OR (value >= -1e12 AND value <= 1e12)
 GROUP BY 1, 2, 3
WITH NO DATA
;;
SELECT add_continuous_aggregate_policy('telemetry_hourly',
    start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '30 minutes')
;;
CALL refresh_continuous_aggregate('telemetry_hourly', NULL, now() - INTERVAL '1 hour')
