-- Checklist enforcement: findings with their legal basis, cause, measure and deadline; published
-- penalty information with its publication period; reminders sent once per (kind, subject, due).

CREATE TABLE findings (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The inspection record lives with the draws (0010+); linked by id, checked by the service.
    inspection_id  bigint,
    enterprise_id  text NOT NULL REFERENCES enterprises (credit_code),
    item_code      text NOT NULL,
    legal_basis    text NOT NULL CHECK (length(btrim(legal_basis)) >= 2),
    cause          text NOT NULL CHECK (length(btrim(cause)) >= 2),
    measure        text NOT NULL CHECK (length(btrim(measure)) >= 2),
    deadline       date,
    corrected_on_site boolean NOT NULL DEFAULT false,
    severity       text NOT NULL CHECK (severity IN ('minor', 'general', 'major_hazard')),
    outcome        text NOT NULL CHECK (outcome IN ('guidance', 'rectify', 'penalty_procedure')),
    reasons        jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    rectified_at   timestamptz,
    CHECK (deadline IS NOT NULL OR corrected_on_site)
);
CREATE INDEX findings_enterprise_item ON findings (enterprise_id, item_code, created_at DESC);
CREATE INDEX findings_open_deadline ON findings (deadline) WHERE rectified_at IS NULL;

CREATE TABLE published_penalties (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enterprise_id  text NOT NULL REFERENCES enterprises (credit_code),
    decision_no    text NOT NULL UNIQUE,
    summary        text NOT NULL,
    decided_on     date NOT NULL,
    published_at   timestamptz NOT NULL DEFAULT now(),
    publish_until  date NOT NULL,
    withdrawn_at   timestamptz,
    CHECK (publish_until > decided_on)
);

CREATE TABLE reminders (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind           text NOT NULL
                   CHECK (kind IN ('licence_expiry', 'rectification_deadline', 'penalty_expiry')),
    subject        text NOT NULL,
    enterprise_id  text REFERENCES enterprises (credit_code),
    due            date NOT NULL,
    stage          text NOT NULL,
    text           text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, subject, due, stage)
);
