-- A supervisor may grant a shorter extension than the enterprise asked for: the deadline granted
-- is kept with the decision (NULL for pending and rejected requests).
ALTER TABLE rectification_extensions ADD COLUMN granted_deadline date;
ALTER TABLE rectification_extensions ADD CONSTRAINT rectification_extensions_granted
    CHECK (granted_deadline IS NULL OR (state = 'approved' AND granted_deadline <= requested_deadline));
