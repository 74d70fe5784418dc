-- Inspector's workbench (issue 15), part 1: inspections made by hand (重点 targeted, 举报
-- complaint, 复查 follow-up) with their reason and who made them, and the generic evidence-file
-- store (photos and documents with their SHA-256, size and sniffed type) that the workbench, the
-- rectification loop and the enterprise portal share.

ALTER TABLE inspections DROP CONSTRAINT inspections_source_check;
ALTER TABLE inspections ADD CONSTRAINT inspections_source_check
    CHECK (source IN ('draw', 'complaint', 'special', 'other', 'targeted', 'follow_up'));
ALTER TABLE inspections ADD COLUMN reason text NOT NULL DEFAULT '';
ALTER TABLE inspections ADD COLUMN follow_up_of bigint REFERENCES inspections (id);
ALTER TABLE inspections ADD COLUMN created_by text;
ALTER TABLE inspections ADD CONSTRAINT inspections_follow_up_has_origin
    CHECK ((source = 'follow_up') = (follow_up_of IS NOT NULL));

CREATE TABLE evidence_files (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enterprise_id  text NOT NULL REFERENCES enterprises (credit_code),
    -- What the file is evidence of: ('inspection', '12'), ('finding', '7'), ('work_permit', …).
    subject_kind   text NOT NULL CHECK (subject_kind ~ '^[a-z_]{1,40}$'),
    subject_id     text NOT NULL CHECK (length(subject_id) BETWEEN 1 AND 100),
    filename       text NOT NULL CHECK (length(filename) BETWEEN 1 AND 200),
    media_type     text NOT NULL
                   CHECK (media_type IN ('image/jpeg', 'image/png', 'image/webp', 'application/pdf')),
    size_bytes     integer NOT NULL CHECK (size_bytes > 0),
    sha256         text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content        bytea NOT NULL,
    note           text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    uploaded_by    text NOT NULL,
    uploaded_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (octet_length(content) = size_bytes)
);
CREATE INDEX evidence_files_subject ON evidence_files (subject_kind, subject_id, id);
CREATE INDEX evidence_files_enterprise ON evidence_files (enterprise_id, uploaded_at DESC);
