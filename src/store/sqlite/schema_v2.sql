-- Chartkeeper schema version 2 (SQLite dialect).
-- version_issues keeps the problems found in a version that a lenient validation policy let in
-- (records/record_service.h): an OperationOutcome's JSON, encoded as bodies are (with a
-- checksum). Only such versions have a row, so a strict server never writes here.

CREATE TABLE version_issues (
  seq INTEGER PRIMARY KEY REFERENCES resource_version(seq),
  encoding INTEGER NOT NULL,
  issues BLOB NOT NULL
);
