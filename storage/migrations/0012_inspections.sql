-- Inspections of every origin (draws, complaints, special campaigns …): the yearly cap per
-- enterprise counts all of them, a joint visit of several departments once.

CREATE TABLE inspections (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    credit_code    text NOT NULL REFERENCES enterprises (credit_code),
    source         text NOT NULL CHECK (source IN ('draw', 'complaint', 'special', 'other')),
    draw_id        bigint REFERENCES draws (id),
    departments    text[] NOT NULL DEFAULT '{}',
    planned_from   date NOT NULL,
    planned_to     date NOT NULL CHECK (planned_to >= planned_from),
    inspected_on   date,
    status         text NOT NULL DEFAULT 'planned'
                   CHECK (status IN ('planned', 'done', 'cancelled')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((source = 'draw') = (draw_id IS NOT NULL)),
    CHECK (status <> 'done' OR inspected_on IS NOT NULL)
);
-- One inspection per enterprise per draw, whatever happens to the scheduler.
CREATE UNIQUE INDEX inspections_one_per_draw ON inspections (draw_id, credit_code)
    WHERE draw_id IS NOT NULL;
CREATE INDEX inspections_enterprise ON inspections (credit_code, planned_from);
CREATE TRIGGER inspections_touch BEFORE UPDATE ON inspections
    FOR EACH ROW EXECUTE FUNCTION sw_touch_updated_at();

CREATE TABLE inspection_staff (
    inspection_id  bigint NOT NULL REFERENCES inspections (id),
    officer_id     text NOT NULL REFERENCES officers (officer_id),
    role           text NOT NULL CHECK (role IN ('leader', 'member', 'expert')),
    PRIMARY KEY (inspection_id, officer_id)
);
CREATE INDEX inspection_staff_officer ON inspection_staff (officer_id);

-- Per enterprise and calendar year: inspections that count against the yearly cap, and the last.
CREATE VIEW inspection_counts AS
SELECT credit_code,
       extract(year FROM coalesce(inspected_on, planned_from))::integer AS year,
       count(*)::integer AS inspections,
       max(coalesce(inspected_on, planned_from)) AS last_inspected_on
  FROM inspections
 WHERE status <> 'cancelled'
 GROUP BY credit_code, extract(year FROM coalesce(inspected_on, planned_from));
