-- The enterprise directory (inspection targets and monitored sites).

CREATE TABLE enterprises (
    credit_code           text PRIMARY KEY CHECK (credit_code ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'),
    name                  text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    county                text NOT NULL,
    address               text NOT NULL DEFAULT '',
    sector                text NOT NULL,
    risk_colour           text NOT NULL DEFAULT 'blue'
                          CHECK (risk_colour IN ('red', 'orange', 'yellow', 'blue')),
    credit_class          text NOT NULL DEFAULT 'B' CHECK (credit_class IN ('A', 'B', 'C', 'D')),
    standardisation_grade text,
    major_hazard_level    smallint CHECK (major_hazard_level BETWEEN 1 AND 4),
    high_risk             boolean NOT NULL DEFAULT false,
    operating_state       text NOT NULL DEFAULT 'operating',
    deregistered          boolean NOT NULL DEFAULT false,
    contacts              jsonb NOT NULL DEFAULT '[]'::jsonb,
    licences              jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX enterprises_county ON enterprises (county);
CREATE INDEX enterprises_sector ON enterprises (sector);
CREATE TRIGGER enterprises_touch BEFORE UPDATE ON enterprises
    FOR EACH ROW EXECUTE FUNCTION sw_touch_updated_at();
