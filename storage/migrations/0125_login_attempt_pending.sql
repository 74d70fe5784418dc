-- Sign-in throttling is atomic (issue 11): an attempt is recorded as 'pending' under a lock on
-- its username and address BEFORE its password is checked, and counts as a failure until it
-- is resolved, so parallel guesses cannot all pass the check before any of them is recorded.
ALTER TABLE login_attempts DROP CONSTRAINT IF EXISTS login_attempts_outcome_check;
ALTER TABLE login_attempts ADD CONSTRAINT login_attempts_outcome_check
    CHECK (outcome IN ('ok', 'failed', 'throttled', 'pending'));
