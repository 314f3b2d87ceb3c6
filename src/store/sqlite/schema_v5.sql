-- Chartkeeper schema version 5.
-- A type's history is read newest first by a cursor (the seq of the last version shown), one
-- index range per page, so a page costs the same at ten million versions as at ten thousand.
-- The index holds the rowid (seq) after type_id, in seq order.
CREATE INDEX resource_version_by_type ON resource_version(type_id);

-- The index gains composite parameters (code-value-quantity...): their values are rows of the
-- existing tables under parameters of their own (search_index_rows.h, CompositeParamUrl), so
-- stored resources are indexed again, resumably (the "search_reindex" marker).
INSERT OR REPLACE INTO store_meta (key, value) SELECT 'search_reindex', '' WHERE EXISTS (SELECT 1 FROM resource WHERE deleted = 0);
