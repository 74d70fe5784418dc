-- Alarms, the telemetry tag registry and downlinks (guidance and notices) with delivery state.

CREATE OR REPLACE FUNCTION sw_severity_rank(severity text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE severity WHEN 'red' THEN 4 WHEN 'orange' THEN 3 WHEN 'yellow' THEN 2 ELSE 1 END::smallint
$$;

CREATE TABLE alarms (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enterprise_id    text        NOT NULL REFERENCES enterprises (credit_code) ON DELETE CASCADE,
    rule             text        NOT NULL,
    subject          text        NOT NULL,
    severity         text        NOT NULL CHECK (severity IN ('red', 'orange', 'yellow', 'blue')),
    severity_rank    smallint    GENERATED ALWAYS AS (sw_severity_rank(severity)) STORED,
    state            text        NOT NULL DEFAULT 'active'
                     CHECK (state IN ('active', 'acknowledged', 'closed')),
    message          text        NOT NULL,
    evidence         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    raised_at        timestamptz NOT NULL,
    last_seen_at     timestamptz NOT NULL,
    occurrences      integer     NOT NULL DEFAULT 1,
    cleared          boolean     NOT NULL DEFAULT false,
    cleared_at       timestamptz,
    ack_due_at       timestamptz NOT NULL,
    escalation_level smallint    NOT NULL DEFAULT 0,
    last_notified_at timestamptz,
    acked_by         text,
    acked_at         timestamptz,
    closed_by        text,
    closed_at        timestamptz,
    cause_category   text,
    action_taken     text,
    CHECK (state <> 'closed' OR (cause_category IS NOT NULL AND action_taken IS NOT NULL)),
    CHECK (state = 'active' OR acked_by IS NOT NULL)
);
-- One open alarm per (enterprise, rule, subject): a repeat updates it.
CREATE UNIQUE INDEX alarms_open_key ON alarms (enterprise_id, rule, subject) WHERE state <> 'closed';
CREATE INDEX alarms_list ON alarms (state, severity_rank DESC, raised_at DESC);
CREATE INDEX alarms_ent ON alarms (enterprise_id, raised_at DESC);
CREATE INDEX alarms_due ON alarms (ack_due_at) WHERE state = 'active';

CREATE TABLE telemetry_tags (
    enterprise_id text        NOT NULL REFERENCES enterprises (credit_code) ON DELETE CASCADE,
    tag           text        NOT NULL CHECK (tag ~ '^[A-Za-z0-9_.:/#-]{1,64}$'),
    kind          text        NOT NULL DEFAULT 'analog',
    unit          text        NOT NULL DEFAULT '',
    description   text        NOT NULL DEFAULT '',
    hh            double precision,
    h             double precision,
    l             double precision,
    ll            double precision,
    deadband      double precision NOT NULL DEFAULT 0 CHECK (deadband >= 0),
    delay_s       double precision NOT NULL DEFAULT 0 CHECK (delay_s >= 0),
    stale_after_s integer CHECK (stale_after_s > 0),
    enabled       boolean     NOT NULL DEFAULT true,
    level         text        NOT NULL DEFAULT 'normal',
    pending_level text,
    pending_since timestamptz,
    last_value    double precision,
    last_ts       timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (enterprise_id, tag),
    CHECK (hh IS NULL OR h IS NULL OR hh >= h),
    CHECK (h IS NULL OR l IS NULL OR h > l),
    CHECK (l IS NULL OR ll IS NULL OR l >= ll)
);

CREATE TABLE downlinks (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel         text        NOT NULL CHECK (channel IN ('guidance', 'notice')),
    ref             text        GENERATED ALWAYS AS
                                ((CASE channel WHEN 'guidance' THEN 'G' ELSE 'N' END) || id::text)
                                STORED UNIQUE,
    enterprise_id   text        NOT NULL REFERENCES enterprises (credit_code) ON DELETE CASCADE,
    kind            text,
    text            text        NOT NULL,
    extra           jsonb       NOT NULL DEFAULT '{}'::jsonb,
    sender          text        NOT NULL,
    requires_ack    boolean     NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    state           text        NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'delivered', 'acknowledged', 'expired')),
    attempts        integer     NOT NULL DEFAULT 0,
    last_sent_at    timestamptz,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    acked_at        timestamptz,
    acked_by        text
);
CREATE INDEX downlinks_due ON downlinks (next_attempt_at) WHERE state IN ('pending', 'sent');
CREATE INDEX downlinks_ent ON downlinks (enterprise_id, created_at DESC);
