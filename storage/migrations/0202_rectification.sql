-- The rectification loop (issue 15): the order to the enterprise (责令限期整改指令书, numbered from
-- the bureau's sequence), its acknowledgement, evidence and escalation; extension requests decided
-- by a supervisor; 复查 closing each finding with its result; enforcement measures as typed records
-- (the flexible instruments of measure 4 and the coercive measures of measure 3).

CREATE TABLE document_numbers (
    kind   text NOT NULL CHECK (kind ~ '^[a-z_]{1,40}$'),
    year   integer NOT NULL,
    last   integer NOT NULL CHECK (last >= 1),
    PRIMARY KEY (kind, year)
);

CREATE TABLE rectification_orders (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    inspection_id    bigint NOT NULL REFERENCES inspections (id),
    enterprise_id    text NOT NULL REFERENCES enterprises (credit_code),
    doc_no           text NOT NULL UNIQUE,
    deadline         date NOT NULL,
    state            text NOT NULL DEFAULT 'issued'
                     CHECK (state IN ('issued', 'acknowledged', 'submitted', 'overdue', 'closed')),
    notice_id        bigint,
    issued_by        text NOT NULL,
    issued_at        timestamptz NOT NULL DEFAULT now(),
    acknowledged_by  text,
    acknowledged_at  timestamptz,
    submitted_at     timestamptz,
    escalated_at     timestamptz,
    closed_at        timestamptz
);
CREATE UNIQUE INDEX rectification_orders_inspection ON rectification_orders (inspection_id);
CREATE INDEX rectification_orders_enterprise ON rectification_orders (enterprise_id, id DESC);
CREATE INDEX rectification_orders_open ON rectification_orders (deadline) WHERE closed_at IS NULL;

CREATE TABLE rectification_extensions (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id            bigint NOT NULL REFERENCES rectification_orders (id),
    requested_deadline  date NOT NULL,
    reason              text NOT NULL CHECK (length(btrim(reason)) >= 5),
    requested_by        text NOT NULL,
    requested_at        timestamptz NOT NULL DEFAULT now(),
    state               text NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'approved', 'rejected')),
    decided_by          text,
    decided_at          timestamptz,
    decision_reason     text
);
CREATE UNIQUE INDEX rectification_extensions_one_pending ON rectification_extensions (order_id)
    WHERE state = 'pending';

CREATE TABLE enforcement_measures (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    finding_id          bigint NOT NULL REFERENCES findings (id),
    enterprise_id       text NOT NULL REFERENCES enterprises (credit_code),
    kind                text NOT NULL CHECK (kind IN ('rectify_order', 'education', 'interview',
                        'warning', 'suspend_production', 'stop_equipment', 'stop_power')),
    content             text NOT NULL CHECK (length(btrim(content)) >= 8),
    safety_not_ensured  boolean NOT NULL DEFAULT false,
    imminent_danger     boolean NOT NULL DEFAULT false,
    head_approval       text NOT NULL DEFAULT '',
    refused_at          timestamptz,
    refusal_note        text NOT NULL DEFAULT '',
    doc_no              text UNIQUE,
    created_by          text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX enforcement_measures_finding ON enforcement_measures (finding_id, id);

ALTER TABLE findings
    ADD COLUMN order_id             bigint REFERENCES rectification_orders (id),
    ADD COLUMN reinspection_id      bigint REFERENCES inspections (id),
    ADD COLUMN reinspection_result  text CHECK (reinspection_result IN ('passed', 'failed')),
    ADD COLUMN reinspection_method  text CHECK (reinspection_method IN ('onsite', 'video')),
    ADD COLUMN reinspection_note    text NOT NULL DEFAULT '',
    ADD COLUMN reinspection_video   text,
    ADD COLUMN closed_at            timestamptz;
