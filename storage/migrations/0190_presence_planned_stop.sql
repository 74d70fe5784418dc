-- Issue 17: a planned stop. A site that says `{"online": false, "planned": true}` before it
-- disconnects is offline without an `offline` alarm until it is heard again (the last will,
-- `{"online": false}` from the broker, neither sets nor clears the flag).
ALTER TABLE enterprise_status ADD COLUMN presence_planned_stop boolean NOT NULL DEFAULT false;
