-- Change feed for live push and the append-only audit log.

-- Every change a dashboard should see is a row here, written in the same transaction as the
-- change itself; the trigger NOTIFYs its id so every API replica (LISTEN safewatch_live) can push
-- it, and a client that reconnects resumes with `after=<last id>`.
CREATE TABLE live_changes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts            timestamptz NOT NULL DEFAULT now(),
    kind          text NOT NULL,
    enterprise_id text,
    payload       jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX live_changes_ts ON live_changes USING brin (ts);

CREATE OR REPLACE FUNCTION sw_notify_live() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('safewatch_live', NEW.id::text);
    RETURN NULL;
END;
$$;
CREATE TRIGGER live_changes_notify AFTER INSERT ON live_changes
    FOR EACH ROW EXECUTE FUNCTION sw_notify_live();

-- Who did what to which target, with the state before and after, when and from where.
CREATE TABLE audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts         timestamptz NOT NULL DEFAULT now(),
    user_id    bigint,
    username   text NOT NULL,
    role       text NOT NULL,
    action     text NOT NULL,
    target     text NOT NULL,
    before     jsonb,
    after      jsonb,
    client_ip  text
);
CREATE INDEX audit_log_ts ON audit_log (ts DESC);
CREATE INDEX audit_log_target ON audit_log (target);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION sw_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION sw_refuse_change();
