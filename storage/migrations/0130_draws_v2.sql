-- Draw algorithm version 2 (docs/draw-algorithm.md): a draw is unique per plan and period
-- *window* (not per free-text label); a repeat of the same window is a further attempt that a
-- supervisor justifies (reason code published, note kept for staff). Officers appear in the
-- published record under per-draw pseudonyms; the mapping stays here, never published.

ALTER TABLE draws DISABLE TRIGGER draws_immutable;
ALTER TABLE draws
    ADD COLUMN attempt integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    ADD COLUMN repeat_reason text,
    ADD COLUMN repeat_note text,
    ADD COLUMN repeat_by text,
    ADD COLUMN read_after timestamptz,
    ADD COLUMN public_source jsonb;  -- v2: the frozen record's public_source (a copy for pages)
-- Version-1 draws sharing a window under different labels become numbered attempts.
UPDATE draws d SET attempt = n.attempt, repeat_reason = 'other',
       repeat_note = '版本1的重复期次标签: ' || d.period, repeat_by = d.frozen_by
  FROM (SELECT id, row_number() OVER (PARTITION BY plan_id, period_start, period_end
                                      ORDER BY id) AS attempt FROM draws) n
 WHERE n.id = d.id AND n.attempt > 1;
ALTER TABLE draws ENABLE TRIGGER draws_immutable;
ALTER TABLE draws DROP CONSTRAINT draws_plan_id_period_key;
ALTER TABLE draws
    ADD CONSTRAINT draws_one_per_window UNIQUE (plan_id, period_start, period_end, attempt),
    ADD CONSTRAINT draws_repeat_justified CHECK ((attempt = 1) = (repeat_reason IS NULL)),
    ADD CONSTRAINT draws_repeat_by CHECK (attempt = 1 OR (repeat_by IS NOT NULL
                                                         AND length(repeat_note) > 0));

CREATE OR REPLACE FUNCTION sw_draws_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.state = 'frozen' AND NEW.state = 'drawn'
       AND (NEW.id, NEW.plan_id, NEW.period, NEW.period_start, NEW.period_end, NEW.algorithm,
            NEW.frozen_at, NEW.frozen_by, NEW.commitment, NEW.hash_rules, NEW.hash_enterprises,
            NEW.hash_officers, NEW.hash_eligibility, NEW.frozen_document, NEW.secret,
            NEW.attempt, NEW.repeat_reason, NEW.repeat_note, NEW.repeat_by, NEW.read_after,
            NEW.public_source)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.plan_id, OLD.period, OLD.period_start, OLD.period_end, OLD.algorithm,
            OLD.frozen_at, OLD.frozen_by, OLD.commitment, OLD.hash_rules, OLD.hash_enterprises,
            OLD.hash_officers, OLD.hash_eligibility, OLD.frozen_document, OLD.secret,
            OLD.attempt, OLD.repeat_reason, OLD.repeat_note, OLD.repeat_by, OLD.read_after,
            OLD.public_source)
    THEN
        RETURN NEW;  -- the one change allowed: recording the draw on a frozen record
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'SW001',
        MESSAGE = format('draw %s is published and immutable', OLD.id);
END;
$$;

CREATE TABLE draw_pseudonyms (
    draw_id    bigint NOT NULL REFERENCES draws (id),
    pseudonym  text NOT NULL,
    officer_id text NOT NULL,
    PRIMARY KEY (draw_id, pseudonym),
    UNIQUE (draw_id, officer_id)
);
CREATE TRIGGER draw_pseudonyms_immutable BEFORE UPDATE OR DELETE ON draw_pseudonyms
    FOR EACH ROW EXECUTE FUNCTION sw_refuse_change();
CREATE TRIGGER draw_pseudonyms_no_truncate BEFORE TRUNCATE ON draw_pseudonyms
    FOR EACH STATEMENT EXECUTE FUNCTION sw_refuse_change();
