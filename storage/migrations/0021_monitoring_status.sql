-- Remote monitoring: operation status, maintenance, restart requests, special operations,
-- gas analyses and daily commitments.

CREATE TABLE enterprise_status (
    enterprise_id     text PRIMARY KEY REFERENCES enterprises (credit_code) ON DELETE CASCADE,
    mode              text NOT NULL DEFAULT 'operating'
                      CHECK (mode IN ('operating', 'shutdown', 'restart_requested',
                                      'restart_approved', 'trial_production')),
    mode_since        timestamptz,
    shutdown_scope    text CHECK (shutdown_scope IN ('plant', 'unit')),
    shutdown_units    text[] NOT NULL DEFAULT '{}',
    shutdown_reason   text,
    planned_resume    timestamptz,
    restart_request   text,
    trial_id          text,
    trial_started_at  timestamptz,
    trial_planned_end timestamptz,
    last_event_at     timestamptz,
    presence_online   boolean NOT NULL DEFAULT false,
    presence_at       timestamptz,
    last_activity_at  timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE maintenance_jobs (
    enterprise_id text        NOT NULL REFERENCES enterprises (credit_code) ON DELETE CASCADE,
    maint_id      text        NOT NULL,
    scope         text        NOT NULL CHECK (scope IN ('plant', 'unit')),
    units         text[]      NOT NULL DEFAULT '{}',
    started_at    timestamptz NOT NULL,
    planned_end   timestamptz,
    ended_at      timestamptz,
    PRIMARY KEY (enterprise_id, maint_id)
);
CREATE INDEX maintenance_jobs_open ON maintenance_jobs (enterprise_id) WHERE ended_at IS NULL;

CREATE TABLE restart_requests (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enterprise_id  text        NOT NULL REFERENCES enterprises (credit_code) ON DELETE CASCADE,
    event_id       text        NOT NULL,
    requested_at   timestamptz NOT NULL,
    planned_at     timestamptz NOT NULL,
    self_check     jsonb       NOT NULL,
    failed_items   integer     NOT NULL DEFAULT 0,
    state          text        NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'approved', 'rejected', 'superseded')),
    decided_by     text,
    decided_at     timestamptz,
    decision_reason text,
    notice_id      bigint,
    UNIQUE (enterprise_id, event_id),
    CHECK (state = 'pending' OR state = 'superseded' OR decided_by IS NOT NULL)
);
CREATE INDEX restart_requests_state ON restart_requests (state, requested_at DESC);

CREATE TABLE special_operations (
    enterprise_id    text        NOT NULL REFERENCES enterprises (credit_code) ON DELETE CASCADE,
    op_id            text        NOT NULL,
    op_type          text        NOT NULL CHECK (op_type IN ('hot_work', 'confined_space',
                                 'blind_plate', 'work_at_height', 'lifting', 'temp_power',
                                 'excavation', 'road_break')),
    grade            text,
    permit_no        text        NOT NULL,
    valid_from       timestamptz NOT NULL,
    valid_to         timestamptz NOT NULL,
    location         text        NOT NULL,
    guardian         text,
    state            text        NOT NULL CHECK (state IN ('active', 'paused', 'ended')),
    started_at       timestamptz NOT NULL,
    paused_at        timestamptz,
    ended_at         timestamptz,
    last_gas_test_at timestamptz,
    needs_retest     boolean     NOT NULL DEFAULT false,
    interruptions    integer     NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (enterprise_id, op_id)
);
CREATE INDEX special_operations_open ON special_operations (op_type, grade) WHERE state <> 'ended';
CREATE INDEX special_operations_started ON special_operations (enterprise_id, started_at DESC);

CREATE TABLE gas_tests (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enterprise_id       text        NOT NULL REFERENCES enterprises (credit_code) ON DELETE CASCADE,
    op_id               text        NOT NULL,
    ts                  timestamptz NOT NULL,
    o2_pct              double precision,
    lel_pct             double precision,
    toxic_ppm           jsonb,
    combustible_vol_pct double precision,
    lel_vol_pct         double precision,
    analyst             text,
    ok                  boolean     NOT NULL,
    problems            text[]      NOT NULL DEFAULT '{}',
    event_id            text
);
CREATE INDEX gas_tests_op ON gas_tests (enterprise_id, op_id, ts DESC);

CREATE TABLE commitments (
    enterprise_id text        NOT NULL REFERENCES enterprises (credit_code) ON DELETE CASCADE,
    day           date        NOT NULL,
    risk_level    smallint    NOT NULL CHECK (risk_level BETWEEN 1 AND 4),
    committed_by  text        NOT NULL,
    committed_at  timestamptz NOT NULL,
    payload       jsonb       NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (enterprise_id, day)
);
CREATE INDEX commitments_day ON commitments (day);
