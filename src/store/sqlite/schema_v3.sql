-- Chartkeeper schema version 3 (SQLite dialect): the search index.
-- Every current version that is not a delete has rows here for the values of its search
-- parameters (search/index_entries.h), keyed by resource type, parameter and value first (the
-- order searches read them in), then by `seq`, the version's row in resource_version, which is
-- how a search finds the body and how a new version replaces the rows of the one before (the
-- `_by_seq` indexes). Parameters are small integers (search_param). Text is as written unless
-- the column says normalized (search/search_text.h). Times are milliseconds since the Unix
-- epoch, UTC; a date interval is [low, high), with the int64 extremes for open ends.

CREATE TABLE search_param (
  param_id INTEGER PRIMARY KEY,
  url TEXT NOT NULL UNIQUE
);

CREATE TABLE search_token (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, code TEXT NOT NULL, system TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY (type_id, param_id, code, system, seq)
) WITHOUT ROWID;
CREATE INDEX search_token_by_seq ON search_token(seq);

CREATE TABLE search_identifier_type (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, type_code TEXT NOT NULL, type_system TEXT NOT NULL,
  value TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY (type_id, param_id, type_code, type_system, value, seq)
) WITHOUT ROWID;
CREATE INDEX search_identifier_type_by_seq ON search_identifier_type(seq);

CREATE TABLE search_string (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, normalized TEXT NOT NULL, exact TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY (type_id, param_id, normalized, exact, seq)
) WITHOUT ROWID;
CREATE INDEX search_string_by_seq ON search_string(seq);

CREATE TABLE search_date (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, low INTEGER NOT NULL, high INTEGER NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY (type_id, param_id, low, high, seq)
) WITHOUT ROWID;
CREATE INDEX search_date_by_seq ON search_date(seq);

CREATE TABLE search_number (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, value REAL NOT NULL, low REAL NOT NULL, high REAL NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (type_id, param_id, value, low, high, seq)
) WITHOUT ROWID;
CREATE INDEX search_number_by_seq ON search_number(seq);

-- Quantities as written (system, code, value with its precision interval), and, for UCUM units,
-- in base units under a key that commensurable units share (terminology/ucum.h).
CREATE TABLE search_quantity (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, code TEXT NOT NULL, system TEXT NOT NULL,
  value REAL NOT NULL, low REAL NOT NULL, high REAL NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY (type_id, param_id, code, system, value, low, high, seq)
) WITHOUT ROWID;
CREATE INDEX search_quantity_by_seq ON search_quantity(seq);

CREATE TABLE search_quantity_canonical (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, unit TEXT NOT NULL, low REAL NOT NULL, high REAL NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (type_id, param_id, unit, low, high, seq)
) WITHOUT ROWID;
CREATE INDEX search_quantity_canonical_by_seq ON search_quantity_canonical(seq);

-- Local references (target type and id, maybe a version) and references by URL (another
-- server, urn:uuid:, canonical URLs with their version).
CREATE TABLE search_reference (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, target_type TEXT NOT NULL, target_id TEXT NOT NULL,
  url TEXT NOT NULL, version TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY (type_id, param_id, target_type, target_id, url, version, seq)
) WITHOUT ROWID;
CREATE INDEX search_reference_by_seq ON search_reference(seq);

CREATE TABLE search_uri (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, uri TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY (type_id, param_id, uri, seq)
) WITHOUT ROWID;
CREATE INDEX search_uri_by_seq ON search_uri(seq);

-- Store-wide state, by key. "search_reindex" is present while existing resources still need
-- their index rows (a database made before schema 3, or `chartkeeper reindex`); its value is
-- where the work resumes ("Type<TAB>id" of the last resource done; empty: from the start).
CREATE TABLE store_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO store_meta (key, value) SELECT 'search_reindex', '' WHERE EXISTS (SELECT 1 FROM resource WHERE deleted = 0);
