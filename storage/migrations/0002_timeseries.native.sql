-- Time-series tables on plain PostgreSQL: native monthly range partitions (UTC month boundaries),
-- BRIN on time, a default partition so that nothing is ever refused for lack of a partition, and
-- a plain rollup table standing in for TimescaleDB's continuous aggregate. The scheduler's
-- maintenance job calls sw_ensure_partitions() to create months ahead and refreshes the rollup.

CREATE TABLE events (
    ts            timestamptz NOT NULL,
    enterprise_id text        NOT NULL,
    event_id      text        NOT NULL,
    type          text        NOT NULL,
    payload       jsonb       NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (enterprise_id, event_id, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE INDEX events_ts_brin ON events USING brin (ts);
CREATE INDEX events_ent_ts ON events (enterprise_id, ts DESC);

CREATE TABLE telemetry (
    ts            timestamptz      NOT NULL,
    enterprise_id text             NOT NULL,
    tag           text             NOT NULL,
    value         double precision,
    quality       text             NOT NULL DEFAULT 'good'
) PARTITION BY RANGE (ts);
CREATE TABLE telemetry_default PARTITION OF telemetry DEFAULT;
CREATE INDEX telemetry_ts_brin ON telemetry USING brin (ts);
CREATE INDEX telemetry_ent_tag_ts ON telemetry (enterprise_id, tag, ts DESC);

CREATE TABLE telemetry_hourly (
    bucket        timestamptz      NOT NULL,
    enterprise_id text             NOT NULL,
    tag           text             NOT NULL,
    avg_value     double precision,
    min_value     double precision,
    max_value     double precision,
    n             bigint           NOT NULL,
    PRIMARY KEY (enterprise_id, tag, bucket)
);

-- Creates the monthly partition of `parent` holding `month_start`, moving any rows that the
-- default partition caught for that month (attach would fail otherwise).
CREATE OR REPLACE FUNCTION sw_ensure_month_partition(parent text, month_start timestamptz)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    lo   timestamptz := date_trunc('month', month_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    hi   timestamptz := (date_trunc('month', month_start AT TIME ZONE 'UTC') + interval '1 month')
                        AT TIME ZONE 'UTC';
    part text := parent || '_' || to_char(lo AT TIME ZONE 'UTC', 'YYYYMM');
BEGIN
    IF to_regclass(part) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS)', part, parent);
    EXECUTE format(
        'WITH moved AS (DELETE FROM %I WHERE ts >= %L AND ts < %L RETURNING *) '
        'INSERT INTO %I SELECT * FROM moved', parent || '_default', lo, hi, part);
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                   parent, part, lo, hi);
    RETURN true;
END;
$$;

-- Ensures partitions from `months_back` months ago to `months_ahead` months ahead.
CREATE OR REPLACE FUNCTION sw_ensure_partitions(months_back int DEFAULT 1, months_ahead int DEFAULT 3)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    created integer := 0;
    m       integer;
    parent  text;
BEGIN
    FOREACH parent IN ARRAY ARRAY['events', 'telemetry'] LOOP
        FOR m IN -months_back..months_ahead LOOP
            IF sw_ensure_month_partition(parent, now() + make_interval(months => m)) THEN
                created := created + 1;
            END IF;
        END LOOP;
    END LOOP;
    RETURN created;
END;
$$;

-- Drops whole monthly partitions of `parent` that end before `older_than`.
CREATE OR REPLACE FUNCTION sw_drop_partitions_before(parent text, older_than timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    dropped integer := 0;
    r record;
BEGIN
    FOR r IN
        SELECT c.relname AS part,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1] AS upper_bound
          FROM pg_inherits i
          JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = parent::regclass AND c.relname <> parent || '_default'
    LOOP
        IF r.upper_bound IS NOT NULL AND r.upper_bound::timestamptz <= older_than THEN
            EXECUTE format('DROP TABLE %I', r.part);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    RETURN dropped;
END;
$$;

-- Recomputes the hourly rollup for [start_ts, end_ts) (hour-aligned by the caller).
CREATE OR REPLACE FUNCTION sw_refresh_telemetry_hourly(start_ts timestamptz, end_ts timestamptz)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM telemetry_hourly WHERE bucket >= start_ts AND bucket < end_ts;
    INSERT INTO telemetry_hourly (bucket, enterprise_id, tag, avg_value, min_value, max_value, n)
    SELECT date_trunc('hour', ts), enterprise_id, tag, avg(value), min(value), max(value), count(*)
      FROM telemetry
     WHERE ts >= start_ts AND ts < end_ts
     GROUP BY 1, 2, 3;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END;
$$;

SELECT sw_ensure_partitions(1, 3);
