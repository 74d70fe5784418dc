-- The draw's own inspection-item list (抽查事项清单) on each drawn inspection (issue 15): a drawn
-- enterprise is inspected on the items the draw's list names for its sector, so its findings
-- may cite only those. Each list item names the checklist-catalogue entries (清单式执法,
-- config/checklist_catalogue.yaml) a finding on it cites; the list itself is kept as it was
-- when the inspection was made (what the task notice told the enterprise), the link to the
-- catalogue is the bureau's current one (read from inspection_items).

ALTER TABLE inspection_items
    ADD COLUMN checklist_codes text[] NOT NULL DEFAULT '{}'
    CHECK (array_position(checklist_codes, NULL) IS NULL);

CREATE TABLE inspection_list_items (
    inspection_id  bigint NOT NULL REFERENCES inspections (id) ON DELETE CASCADE,
    item_id        text NOT NULL CHECK (length(item_id) BETWEEN 1 AND 64),
    item           text NOT NULL,
    sub_item       text NOT NULL DEFAULT '',
    legal_basis    text NOT NULL,
    PRIMARY KEY (inspection_id, item_id)
);

-- Drawn inspections made before this migration get the list of their sector as it is now
-- (the same rule as domain.directory.InspectionItem.applies_to: "*" or the sector).
INSERT INTO inspection_list_items (inspection_id, item_id, item, sub_item, legal_basis)
SELECT i.id, it.item_id, it.item, it.sub_item, it.legal_basis
  FROM inspections i
  JOIN enterprises e USING (credit_code)
  JOIN inspection_items it ON '*' = ANY (it.sectors) OR e.sector = ANY (it.sectors)
 WHERE i.source = 'draw';
