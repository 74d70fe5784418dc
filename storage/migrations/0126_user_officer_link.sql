-- An inspector account is linked to its officer record (issue 11): an inspector may record
-- findings on, complete or cancel only inspections whose team includes that officer.
-- One account per officer; deleting an officer unlinks the account rather than failing.
ALTER TABLE users ADD COLUMN officer_id text UNIQUE REFERENCES officers (officer_id) ON DELETE SET NULL;
