-- Issue 17: a registered tag's stale clock starts at its first expected report, i.e. when it was
-- registered (or re-enabled), not at the epoch: a tag that never reported is stale only once
-- `stale_after_s` has passed since registration. Existing tags count from this migration.
ALTER TABLE telemetry_tags ADD COLUMN registered_at timestamptz NOT NULL DEFAULT now();
