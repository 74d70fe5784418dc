-- Findings under 清单式执法 with the inclusive-prudent advisor (issue 15): the penalty article
-- from the catalogue, a flagged free-text basis with its reason, the 重大事故隐患 criterion and
-- its standard, the facts the advisor weighs, its recommendation with every rule checked and
-- the policy version, the officer's decision (an override carries a reason), the provisional
-- outcome's verification deadline and its lapse, and the enterprise's statement (measure 12).

ALTER TABLE findings
    ADD COLUMN penalty_basis      text,
    ADD COLUMN basis_free_text    boolean NOT NULL DEFAULT false,
    ADD COLUMN basis_reason       text NOT NULL DEFAULT '',
    ADD COLUMN hazard_standard    text,
    ADD COLUMN hazard_criterion   text,
    ADD COLUMN harm               text CHECK (harm IN ('none', 'minor', 'serious')),
    ADD COLUMN accident           boolean NOT NULL DEFAULT false,
    ADD COLUMN illegal_production boolean NOT NULL DEFAULT false,
    ADD COLUMN bad_social_impact  boolean NOT NULL DEFAULT false,
    ADD COLUMN mitigations        text[] NOT NULL DEFAULT '{}',
    ADD COLUMN recommendation     text
        CHECK (recommendation IN ('no_penalty', 'first_violation', 'lenient', 'case')),
    ADD COLUMN advice             jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN policy_version     text,
    ADD COLUMN provisional        boolean NOT NULL DEFAULT false,
    ADD COLUMN verify_by          date,
    ADD COLUMN decision           text
        CHECK (decision IN ('no_penalty', 'first_violation', 'lenient', 'case')),
    ADD COLUMN decision_reason    text,
    ADD COLUMN decided_by         text,
    ADD COLUMN decided_at         timestamptz,
    ADD COLUMN verified_on        date,
    ADD COLUMN lapsed_at          timestamptz,
    ADD COLUMN statement          text CHECK (statement IN ('agree', 'object')),
    ADD COLUMN statement_note     text NOT NULL DEFAULT '',
    ADD COLUMN statement_at       timestamptz,
    ADD CONSTRAINT findings_major_cites_criterion
        CHECK (recommendation IS NULL OR severity <> 'major_hazard' OR hazard_criterion IS NOT NULL),
    ADD CONSTRAINT findings_free_basis_has_reason
        CHECK (NOT basis_free_text OR length(btrim(basis_reason)) >= 10);
CREATE INDEX findings_provisional ON findings (verify_by) WHERE provisional AND lapsed_at IS NULL;
CREATE INDEX findings_inspection ON findings (inspection_id, id);
