-- The hourly rollup is refreshed enterprise by enterprise: a row that makes one enterprise's
-- aggregate fail (e.g. readings of 1.7e308 stored before values were bounded: their sum
-- overflows double precision) is skipped with a warning, every other enterprise is rolled up.
-- Values beyond ±1e12 (config/monitoring.yaml ingest.max_abs_value) are left out of the
-- aggregates, so what is already stored can never break the rollup again.
CREATE OR REPLACE FUNCTION sw_refresh_telemetry_hourly(start_ts timestamptz, end_ts timestamptz)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n     bigint := 0;
    added bigint;
    ent   text;
BEGIN
    FOR ent IN
        SELECT DISTINCT enterprise_id FROM telemetry WHERE ts >= start_ts AND ts < end_ts
        UNION
        SELECT DISTINCT enterprise_id FROM telemetry_hourly WHERE bucket >= start_ts AND bucket < end_ts
    LOOP
        BEGIN
            DELETE FROM telemetry_hourly
             WHERE enterprise_id = ent AND bucket >= start_ts AND bucket < end_ts;
            INSERT INTO telemetry_hourly (bucket, enterprise_id, tag, avg_value, min_value, max_value, n)
            SELECT date_trunc('hour', ts), enterprise_id, tag, avg(value), min(value), max(value),
                   count(*)
              FROM telemetry
             WHERE enterprise_id = ent AND ts >= start_ts AND ts < end_ts
               AND (value IS NULL OR value BETWEEN -1e12 AND 1e12)
             GROUP BY 1, 2, 3;
            GET DIAGNOSTICS added = ROW_COUNT;
            n := n + added;
        EXCEPTION WHEN data_exception OR numeric_value_out_of_range THEN
            RAISE WARNING 'telemetry rollup skipped enterprise % for [%, %): %',
                ent, start_ts, end_ts, SQLERRM;
        END;
    END LOOP;
    RETURN n;
END;
$$;
