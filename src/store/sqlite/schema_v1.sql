-- Chartkeeper schema version 1 (SQLite dialect).
-- resource_version holds every version of every resource; `seq` (the rowid) orders all changes
-- system-wide. resource is the current pointer: one row per (type, id), the newest version.
-- Types are small integers (resource_type) to keep rows and keys short.

CREATE TABLE resource_type (
  type_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);

CREATE TABLE resource_version (
  seq INTEGER PRIMARY KEY,
  type_id INTEGER NOT NULL REFERENCES resource_type(type_id),
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  last_updated INTEGER NOT NULL,   -- milliseconds since the Unix epoch, UTC
  change INTEGER NOT NULL,         -- 0 create, 1 update, 2 delete
  encoding INTEGER NOT NULL,       -- body encoding: 0 plain JSON, 1 zstd-compressed JSON
  body BLOB                        -- NULL for a delete
);
CREATE UNIQUE INDEX resource_version_by_resource ON resource_version(type_id, id, version);
CREATE INDEX resource_version_by_time ON resource_version(last_updated);

CREATE TABLE resource (
  type_id INTEGER NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  seq INTEGER NOT NULL,            -- the current version's row in resource_version
  PRIMARY KEY (type_id, id)
) WITHOUT ROWID;
