-- GB 30871-2022 rules (issue 10): what a permit records beyond the first contract, and the gas
-- a combustible reading refers to. last_gas_test_at now means the latest *acceptable*
-- analysis; last_reading_at is the latest reading of any result (continuous-monitoring gaps).
ALTER TABLE special_operations
    ADD COLUMN last_reading_at  timestamptz,
    ADD COLUMN reported_grade   text,
    ADD COLUMN oxygen_enriched  boolean NOT NULL DEFAULT false,
    ADD COLUMN guardian_cert    text,
    ADD COLUMN camera           text,
    ADD COLUMN serves_op        text;
UPDATE special_operations SET last_reading_at = last_gas_test_at;
CREATE INDEX special_operations_guardian ON special_operations (enterprise_id, guardian)
    WHERE state <> 'ended';

ALTER TABLE gas_tests ADD COLUMN gas text;
