-- Sampling plans and their draws. A draw is frozen (population, rules, hashes, commitment) when
-- its period opens and drawn once (public value, revealed secret, result); both states are
-- published and immutable: the only change the database accepts is frozen → drawn.

CREATE TABLE plans (
    plan_id         text PRIMARY KEY CHECK (plan_id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
    title           text NOT NULL DEFAULT '',
    spec            jsonb NOT NULL,          -- the plan as submitted (plan.yaml fields)
    rules           jsonb NOT NULL,          -- resolved rules template (policy defaults applied)
    cron            text,                    -- NULL: on-demand draws only
    timezone        text NOT NULL DEFAULT 'Asia/Shanghai',
    window_days     integer NOT NULL DEFAULT 30 CHECK (window_days BETWEEN 1 AND 366),
    period_format   text NOT NULL DEFAULT '%Y-%m',
    public_value_source text NOT NULL DEFAULT 'none'
                    CHECK (public_value_source IN ('none', 'witnessed')),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER plans_touch BEFORE UPDATE ON plans
    FOR EACH ROW EXECUTE FUNCTION sw_touch_updated_at();

CREATE TABLE draws (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id            text NOT NULL REFERENCES plans (plan_id),
    period             text NOT NULL CHECK (length(period) BETWEEN 1 AND 64),
    period_start       date NOT NULL,
    period_end         date NOT NULL CHECK (period_end >= period_start),
    algorithm          text NOT NULL,
    state              text NOT NULL CHECK (state IN ('frozen', 'drawn')),
    frozen_at          timestamptz NOT NULL DEFAULT now(),
    frozen_by          text NOT NULL,
    commitment         text NOT NULL CHECK (commitment ~ '^[0-9a-f]{64}$'),
    hash_rules         text NOT NULL CHECK (hash_rules ~ '^[0-9a-f]{64}$'),
    hash_enterprises   text NOT NULL CHECK (hash_enterprises ~ '^[0-9a-f]{64}$'),
    hash_officers      text NOT NULL CHECK (hash_officers ~ '^[0-9a-f]{64}$'),
    hash_eligibility   text NOT NULL CHECK (hash_eligibility ~ '^[0-9a-f]{64}$'),
    frozen_document    bytea NOT NULL,       -- canonical frozen record + LF (published at freeze)
    -- Kept here until the draw, never shown before it (see docs/draw-algorithm.md §1).
    secret             text NOT NULL CHECK (secret ~ '^[0-9a-f]{64}$'),
    drawn_at           timestamptz,
    drawn_by           text,
    public_value       text,
    seed               text CHECK (seed ~ '^[0-9a-f]{64}$'),
    status             text CHECK (status IN ('complete', 'incomplete')),
    document           bytea,                -- canonical draw record + LF: what verify-draw reads
    UNIQUE (plan_id, period),
    CHECK ((state = 'frozen') = (drawn_at IS NULL)),
    CHECK (state = 'frozen' OR (public_value IS NOT NULL AND seed IS NOT NULL
                                AND status IS NOT NULL AND document IS NOT NULL
                                AND drawn_by IS NOT NULL))
);
CREATE INDEX draws_drawn_at ON draws (drawn_at DESC) WHERE state = 'drawn';

CREATE OR REPLACE FUNCTION sw_draws_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.state = 'frozen' AND NEW.state = 'drawn'
       AND (NEW.id, NEW.plan_id, NEW.period, NEW.period_start, NEW.period_end, NEW.algorithm,
            NEW.frozen_at, NEW.frozen_by, NEW.commitment, NEW.hash_rules, NEW.hash_enterprises,
            NEW.hash_officers, NEW.hash_eligibility, NEW.frozen_document, NEW.secret)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.plan_id, OLD.period, OLD.period_start, OLD.period_end, OLD.algorithm,
            OLD.frozen_at, OLD.frozen_by, OLD.commitment, OLD.hash_rules, OLD.hash_enterprises,
            OLD.hash_officers, OLD.hash_eligibility, OLD.frozen_document, OLD.secret)
    THEN
        RETURN NEW;  -- the one change allowed: recording the draw on a frozen record
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'SW001',
        MESSAGE = format('draw %s is published and immutable', OLD.id);
END;
$$;
CREATE TRIGGER draws_immutable BEFORE UPDATE OR DELETE ON draws
    FOR EACH ROW EXECUTE FUNCTION sw_draws_guard();
CREATE TRIGGER draws_no_truncate BEFORE TRUNCATE ON draws
    FOR EACH STATEMENT EXECUTE FUNCTION sw_refuse_change();

-- Queryable copies of what the documents say (the documents stay the authority).
CREATE TABLE draw_exclusions (
    draw_id   bigint NOT NULL REFERENCES draws (id),
    kind      text NOT NULL CHECK (kind IN ('enterprise', 'officer')),
    subject   text NOT NULL,
    reason    text NOT NULL,
    detail    text NOT NULL DEFAULT '',
    PRIMARY KEY (draw_id, kind, subject)
);
CREATE TABLE draw_selections (
    draw_id      bigint NOT NULL REFERENCES draws (id),
    position     integer NOT NULL CHECK (position >= 0),
    credit_code  text NOT NULL,
    stratum      text NOT NULL,
    rank         text NOT NULL,
    staffed      boolean NOT NULL,
    leader       text,
    officers     text[] NOT NULL DEFAULT '{}',
    experts      text[] NOT NULL DEFAULT '{}',
    unstaffed    jsonb NOT NULL DEFAULT '[]'::jsonb,  -- reasons per pool when not staffed
    PRIMARY KEY (draw_id, position),
    UNIQUE (draw_id, credit_code)
);
CREATE TRIGGER draw_exclusions_immutable BEFORE UPDATE OR DELETE ON draw_exclusions
    FOR EACH ROW EXECUTE FUNCTION sw_refuse_change();
CREATE TRIGGER draw_exclusions_no_truncate BEFORE TRUNCATE ON draw_exclusions
    FOR EACH STATEMENT EXECUTE FUNCTION sw_refuse_change();
CREATE TRIGGER draw_selections_immutable BEFORE UPDATE OR DELETE ON draw_selections
    FOR EACH ROW EXECUTE FUNCTION sw_refuse_change();
CREATE TRIGGER draw_selections_no_truncate BEFORE TRUNCATE ON draw_selections
    FOR EACH STATEMENT EXECUTE FUNCTION sw_refuse_change();
