-- A drawn inspection's list keeps each item's method (检查方式) too, so the task notice and the
-- inspection lists of a draw are printed from the list the draw made (the same one its findings
-- are restricted to), not from the item list as edited since.

ALTER TABLE inspection_list_items
    ADD COLUMN method text NOT NULL DEFAULT 'onsite'
    CHECK (method IN ('onsite', 'document', 'online'));
UPDATE inspection_list_items l SET method = it.method
  FROM inspection_items it WHERE it.item_id = l.item_id;
ALTER TABLE inspection_list_items ALTER COLUMN method DROP DEFAULT;
