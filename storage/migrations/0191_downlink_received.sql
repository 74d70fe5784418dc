-- Issue 17: a downlink published without requires_ack is `delivered` (published to the broker,
-- not known to have arrived); when the site acknowledges it anyway it becomes `received`.
-- A requires_ack downlink still goes sent → acknowledged.
ALTER TABLE downlinks DROP CONSTRAINT downlinks_state_check;
ALTER TABLE downlinks ADD CONSTRAINT downlinks_state_check
    CHECK (state IN ('pending', 'sent', 'delivered', 'received', 'acknowledged', 'expired'));
