-- Chartkeeper schema version 11: `_content` no longer holds the text of references
-- (`Reference.reference`, "Patient/123": every resource that names a patient matched
-- `_content=patient`); their targets are searched by the reference parameters. Nothing changes
-- in the tables: the stored resources are indexed again, resumably (the "search_reindex" marker).
INSERT OR REPLACE INTO store_meta (key, value) SELECT 'search_reindex', '' WHERE EXISTS (SELECT 1 FROM resource WHERE deleted = 0);
