-- Chartkeeper schema version 4: every resource gets a number that never changes, `rid` (the seq
-- of its first version), and the search index is keyed by it instead of by the current
-- version's seq. Searches without _sort return resources in rid order (creation order): an
-- update neither moves a resource nor renumbers its rows, so a paging cursor (the last rid)
-- never repeats or skips one; and the rows of one exact value (a code, a reference target, a
-- uri) are in rid order in the index, so a search driven by such a value stops as soon as its
-- page is full (docs/design/search.md, the query planner). The index is derived data: it is
-- rebuilt (the "search_reindex" marker), not converted.

ALTER TABLE resource ADD COLUMN rid INTEGER NOT NULL DEFAULT 0;
UPDATE resource SET rid = (SELECT v.seq FROM resource_version v WHERE v.type_id = resource.type_id AND v.id = resource.id
                           ORDER BY v.version LIMIT 1);
CREATE UNIQUE INDEX resource_by_rid ON resource(type_id, rid);

DROP TABLE search_token;
DROP TABLE search_identifier_type;
DROP TABLE search_string;
DROP TABLE search_date;
DROP TABLE search_number;
DROP TABLE search_quantity;
DROP TABLE search_quantity_canonical;
DROP TABLE search_reference;
DROP TABLE search_uri;

-- Each table is keyed by resource type, parameter and value (the order searches read them in),
-- with rid right after the columns an equality search fixes; `_by_rid` finds a resource's rows
-- (to replace them, and to test a condition on one candidate). Text is as written unless the
-- column says normalized (search/search_text.h). Times are milliseconds since the Unix epoch,
-- UTC; a date interval is [low, high), with the int64 extremes for open ends.
CREATE TABLE search_token (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, code TEXT NOT NULL, rid INTEGER NOT NULL, system TEXT NOT NULL,
  PRIMARY KEY (type_id, param_id, code, rid, system)
) WITHOUT ROWID;
CREATE INDEX search_token_by_rid ON search_token(rid, param_id);

CREATE TABLE search_identifier_type (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, type_code TEXT NOT NULL, type_system TEXT NOT NULL,
  value TEXT NOT NULL, rid INTEGER NOT NULL,
  PRIMARY KEY (type_id, param_id, type_code, type_system, value, rid)
) WITHOUT ROWID;
CREATE INDEX search_identifier_type_by_rid ON search_identifier_type(rid, param_id);

CREATE TABLE search_string (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, normalized TEXT NOT NULL, exact TEXT NOT NULL, rid INTEGER NOT NULL,
  PRIMARY KEY (type_id, param_id, normalized, exact, rid)
) WITHOUT ROWID;
CREATE INDEX search_string_by_rid ON search_string(rid, param_id);

CREATE TABLE search_date (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, low INTEGER NOT NULL, high INTEGER NOT NULL, rid INTEGER NOT NULL,
  PRIMARY KEY (type_id, param_id, low, high, rid)
) WITHOUT ROWID;
CREATE INDEX search_date_by_rid ON search_date(rid, param_id);

CREATE TABLE search_number (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, value REAL NOT NULL, low REAL NOT NULL, high REAL NOT NULL,
  rid INTEGER NOT NULL,
  PRIMARY KEY (type_id, param_id, value, low, high, rid)
) WITHOUT ROWID;
CREATE INDEX search_number_by_rid ON search_number(rid, param_id);

-- Quantities as written (system, code, value with its precision interval), and, for UCUM units,
-- in base units under a key that commensurable units share (terminology/ucum.h).
CREATE TABLE search_quantity (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, code TEXT NOT NULL, system TEXT NOT NULL,
  value REAL NOT NULL, low REAL NOT NULL, high REAL NOT NULL, rid INTEGER NOT NULL,
  PRIMARY KEY (type_id, param_id, code, system, value, low, high, rid)
) WITHOUT ROWID;
CREATE INDEX search_quantity_by_rid ON search_quantity(rid, param_id);

CREATE TABLE search_quantity_canonical (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, unit TEXT NOT NULL, low REAL NOT NULL, high REAL NOT NULL,
  rid INTEGER NOT NULL,
  PRIMARY KEY (type_id, param_id, unit, low, high, rid)
) WITHOUT ROWID;
CREATE INDEX search_quantity_canonical_by_rid ON search_quantity_canonical(rid, param_id);

-- Local references (target type and id, maybe a version) and references by URL (another
-- server, urn:uuid:, canonical URLs with their version).
CREATE TABLE search_reference (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, target_id TEXT NOT NULL, url TEXT NOT NULL, rid INTEGER NOT NULL,
  target_type TEXT NOT NULL, version TEXT NOT NULL,
  PRIMARY KEY (type_id, param_id, target_id, url, rid, target_type, version)
) WITHOUT ROWID;
CREATE INDEX search_reference_by_rid ON search_reference(rid, param_id);

CREATE TABLE search_uri (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, uri TEXT NOT NULL, rid INTEGER NOT NULL,
  PRIMARY KEY (type_id, param_id, uri, rid)
) WITHOUT ROWID;
CREATE INDEX search_uri_by_rid ON search_uri(rid, param_id);

-- A bulk load (`chartkeeper import`) stages its index rows here, in write order, and merges them
-- into the tables above in key order when it ends (or, after a crash, at the next open): see
-- store/sqlite/search_index_rows.h. Staged rows are not searchable.
CREATE TABLE search_token_staged (type_id INTEGER, param_id INTEGER, code TEXT, system TEXT, rid INTEGER);
CREATE TABLE search_identifier_type_staged (type_id INTEGER, param_id INTEGER, type_code TEXT, type_system TEXT, value TEXT, rid INTEGER);
CREATE TABLE search_string_staged (type_id INTEGER, param_id INTEGER, normalized TEXT, exact TEXT, rid INTEGER);
CREATE TABLE search_date_staged (type_id INTEGER, param_id INTEGER, low INTEGER, high INTEGER, rid INTEGER);
CREATE TABLE search_number_staged (type_id INTEGER, param_id INTEGER, value REAL, low REAL, high REAL, rid INTEGER);
CREATE TABLE search_quantity_staged (type_id INTEGER, param_id INTEGER, code TEXT, system TEXT, value REAL, low REAL, high REAL, rid INTEGER);
CREATE TABLE search_quantity_canonical_staged (type_id INTEGER, param_id INTEGER, unit TEXT, low REAL, high REAL, rid INTEGER);
CREATE TABLE search_reference_staged (type_id INTEGER, param_id INTEGER, target_type TEXT, target_id TEXT, url TEXT, version TEXT, rid INTEGER);
CREATE TABLE search_uri_staged (type_id INTEGER, param_id INTEGER, uri TEXT, rid INTEGER);
CREATE INDEX search_token_staged_by_rid ON search_token_staged(rid);
CREATE INDEX search_identifier_type_staged_by_rid ON search_identifier_type_staged(rid);
CREATE INDEX search_string_staged_by_rid ON search_string_staged(rid);
CREATE INDEX search_date_staged_by_rid ON search_date_staged(rid);
CREATE INDEX search_number_staged_by_rid ON search_number_staged(rid);
CREATE INDEX search_quantity_staged_by_rid ON search_quantity_staged(rid);
CREATE INDEX search_quantity_canonical_staged_by_rid ON search_quantity_canonical_staged(rid);
CREATE INDEX search_reference_staged_by_rid ON search_reference_staged(rid);
CREATE INDEX search_uri_staged_by_rid ON search_uri_staged(rid);

INSERT OR REPLACE INTO store_meta (key, value) SELECT 'search_reindex', '' WHERE EXISTS (SELECT 1 FROM resource WHERE deleted = 0);
