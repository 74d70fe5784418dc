-- Flexible instruments' documents (issue 15, measure 4): a 行政约谈 states when, where and whom
-- (约谈通知书), and its record once held (约谈记录). Checked for new rows only (NOT VALID): an
-- interview recorded before this migration keeps its row; its notice is refused until edited.
ALTER TABLE enforcement_measures
    ADD COLUMN meeting_at        timestamptz,
    ADD COLUMN meeting_place     text NOT NULL DEFAULT '',
    ADD COLUMN meeting_attendee  text NOT NULL DEFAULT '',
    ADD COLUMN held_at           timestamptz,
    ADD COLUMN attendees         text NOT NULL DEFAULT '',
    ADD COLUMN minutes           text NOT NULL DEFAULT '',
    ADD COLUMN minutes_by        text,
    ADD CONSTRAINT enforcement_measures_interview_meeting CHECK (
        kind <> 'interview'
        OR (meeting_at IS NOT NULL AND length(btrim(meeting_place)) >= 2
            AND length(btrim(meeting_attendee)) >= 2)
    ) NOT VALID,
    ADD CONSTRAINT enforcement_measures_minutes CHECK (
        held_at IS NULL OR (kind = 'interview' AND length(btrim(minutes)) >= 10
                            AND length(btrim(attendees)) >= 2 AND minutes_by IS NOT NULL)
    );
