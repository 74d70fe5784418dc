-- Issue 11: a tag's measuring range (量程) bounds the values the ingest accepts for it; values
-- outside are refused as `value_outside_tag_range` (the global ±1e12 bound stays for every tag).
ALTER TABLE telemetry_tags
    ADD COLUMN range_min double precision CHECK (range_min BETWEEN -1e12 AND 1e12),
    ADD COLUMN range_max double precision CHECK (range_max BETWEEN -1e12 AND 1e12),
    ADD CONSTRAINT telemetry_tags_range_ordered
        CHECK (range_min IS NULL OR range_max IS NULL OR range_min < range_max);
