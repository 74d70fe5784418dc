-- Enforcement documents (issue 15): the number each document got when it was first issued, so
-- every later print shows the same number (numbers come from document_numbers, per kind and year).
CREATE TABLE issued_documents (
    kind        text NOT NULL CHECK (kind ~ '^[a-z_]{1,40}$'),
    subject     text NOT NULL CHECK (length(subject) BETWEEN 1 AND 100),
    doc_no      text NOT NULL UNIQUE,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, subject)
);
