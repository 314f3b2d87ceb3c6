-- Chartkeeper schema version 10: full text for `_text` (the narrative) and `_content` (all the
-- resource's text), search/full_text.h. One row per resource, its rid as the rowid (a search
-- keeps to its type through resource_by_rid), the text folded as string search folds it; FTS5
-- tokenizes it (letters and digits, no more folding).
-- Written with the other index rows in the write's transaction; the stored resources are
-- indexed again, resumably (the "search_reindex" marker).
CREATE VIRTUAL TABLE search_fulltext USING fts5(narrative, content, tokenize = 'unicode61 remove_diacritics 0');
INSERT OR REPLACE INTO store_meta (key, value) SELECT 'search_reindex', '' WHERE EXISTS (SELECT 1 FROM resource WHERE deleted = 0);
