-- Officer/expert directory with declared conflicts, and the inspection-item list (抽查事项清单).

CREATE TABLE officers (
    officer_id             text PRIMARY KEY CHECK (officer_id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
    name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    department             text NOT NULL CHECK (length(department) BETWEEN 1 AND 100
                                                AND strpos(department, '|') = 0),
    county                 text NOT NULL,
    certificate_no         text NOT NULL DEFAULT '',
    certificate_valid_from date,
    certificate_valid_to   date,
    active                 boolean NOT NULL DEFAULT true,
    -- Experts are auxiliary staff: never counted as officers, never team leaders.
    auxiliary              boolean NOT NULL DEFAULT false,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CHECK (certificate_valid_from IS NULL OR certificate_valid_to IS NULL
           OR certificate_valid_from <= certificate_valid_to)
);
CREATE INDEX officers_department ON officers (department);
CREATE TRIGGER officers_touch BEFORE UPDATE ON officers
    FOR EACH ROW EXECUTE FUNCTION sw_touch_updated_at();

-- An enterprise an officer must recuse from; no foreign key: one may declare a conflict with an
-- enterprise before it enters the directory.
CREATE TABLE officer_conflicts (
    officer_id   text NOT NULL REFERENCES officers (officer_id) ON DELETE CASCADE,
    credit_code  text NOT NULL CHECK (credit_code ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'),
    reason       text NOT NULL DEFAULT '',
    declared_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (officer_id, credit_code)
);
CREATE INDEX officer_conflicts_enterprise ON officer_conflicts (credit_code);

CREATE TABLE inspection_items (
    item_id      text PRIMARY KEY CHECK (length(item_id) BETWEEN 1 AND 64),
    item         text NOT NULL CHECK (length(item) >= 1),
    sub_item     text NOT NULL DEFAULT '',
    legal_basis  text NOT NULL CHECK (length(btrim(legal_basis)) >= 2),
    sectors      text[] NOT NULL CHECK (cardinality(sectors) >= 1),
    method       text NOT NULL CHECK (method IN ('onsite', 'document', 'online')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER inspection_items_touch BEFORE UPDATE ON inspection_items
    FOR EACH ROW EXECUTE FUNCTION sw_touch_updated_at();
