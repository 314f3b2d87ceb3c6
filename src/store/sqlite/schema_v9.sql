-- Chartkeeper schema version 9: audit_link's newest rows wait in audit_link_recent, kept in
-- record order, so appending a record writes to one page at the end of it, not to a page per
-- patient, agent and entity spread over audit_link. When it holds enough records the writer
-- moves them to audit_link in key order, in the transaction that seals the next group
-- (docs/design/audit.md); searches read both.
CREATE TABLE audit_link_recent (
  seq INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (seq, kind, value)
) WITHOUT ROWID;
