-- Chartkeeper schema version 7.
--
-- Contained resources are searchable (`_contained`, R4 search "Contained Resources"). Each is
-- indexed as a resource of its own type under a rid of its own, derived from its container's rid
-- and its position in the container's `contained` (search_index_rows.h, ContainedRid), and with
-- the type's id negated, so every index range of a type holds either resources or contained
-- resources, never both. This table is to contained resources what `resource` is to resources:
-- the seq of the container's current version, which holds them. A container's rows go with its
-- current version (removed and written again with each new version, removed with a delete).
CREATE TABLE contained_resource (
  rid INTEGER PRIMARY KEY,
  type_id INTEGER NOT NULL,  -- the negated id of the contained resource's type
  seq INTEGER NOT NULL
);
CREATE INDEX contained_resource_by_type ON contained_resource(type_id, rid, seq);

-- Composites of three components (MolecularSequence's coordinates: a chromosome or reference
-- sequence, then a start and an end) keep their two numbers in one row, under the composite's
-- parameter for the first component's code (search_index_rows.h, CompositeParamUrl).
CREATE TABLE search_number_pair (
  type_id INTEGER NOT NULL, param_id INTEGER NOT NULL, value REAL NOT NULL, low REAL NOT NULL, high REAL NOT NULL,
  value2 REAL NOT NULL, low2 REAL NOT NULL, high2 REAL NOT NULL, rid INTEGER NOT NULL,
  PRIMARY KEY (type_id, param_id, value, low, high, value2, low2, high2, rid)
) WITHOUT ROWID;
CREATE INDEX search_number_pair_by_rid ON search_number_pair(rid, param_id);
CREATE TABLE search_number_pair_staged (type_id INTEGER, param_id INTEGER, value REAL, low REAL, high REAL,
                                        value2 REAL, low2 REAL, high2 REAL, rid INTEGER);
CREATE INDEX search_number_pair_staged_by_rid ON search_number_pair_staged(rid);

-- Stored resources with contained resources or coordinates are indexed again, resumably.
INSERT OR REPLACE INTO store_meta (key, value) SELECT 'search_reindex', '' WHERE EXISTS (SELECT 1 FROM resource WHERE deleted = 0);
