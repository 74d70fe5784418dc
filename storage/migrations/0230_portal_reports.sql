-- Reports an enterprise sends over HTTPS from the portal (企业端): queued here and taken by the
-- monitor's ingest, which runs them through the same checks and processor as MQTT uplinks.
-- The outcome is written back so the portal can tell the user what was stored or refused.

CREATE TABLE portal_reports (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enterprise_id text        NOT NULL REFERENCES enterprises (credit_code) ON DELETE CASCADE,
    kind          text        NOT NULL CHECK (kind IN ('event', 'commitment', 'ack')),
    payload       bytea       NOT NULL,
    submitted_by  text        NOT NULL,
    submitted_at  timestamptz NOT NULL DEFAULT now(),
    state         text        NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'stored', 'refused')),
    claimed_at    timestamptz,
    code          text,
    reason        text,
    done_at       timestamptz
);
CREATE INDEX portal_reports_pending ON portal_reports (id) WHERE state = 'pending';
CREATE INDEX portal_reports_ent ON portal_reports (enterprise_id, id DESC);
