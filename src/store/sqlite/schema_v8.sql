-- Chartkeeper schema version 8: the audit trail (docs/design/audit.md).
-- audit_record is append-only: record `seq` (1, 2, 3... without gaps) holds the record's content
-- as the audit layer wrote it and its chain hash (store/audit_chain.h), in lower-case hex.
CREATE TABLE audit_record (
  seq INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,  -- milliseconds since the Unix epoch, UTC: the transaction time
  content TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_record_by_time ON audit_record(time);

-- What each record is filed under, for searches and disclosure reports: kind 1 a patient id,
-- 2 an agent (user name or client id), 3 an entity ("Type/id"). An index, not evidence: the
-- record's content says the same and is what the chain protects.
CREATE TABLE audit_link (
  kind INTEGER NOT NULL,
  value TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (kind, value, seq)
) WITHOUT ROWID;

-- Signed checkpoints, kept for ever, and the signed head (one row, replaced by each commit that
-- adds records): a signature by the audit key over store/audit_chain.h's seal message.
CREATE TABLE audit_checkpoint (
  seq INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  time INTEGER NOT NULL,
  signature BLOB NOT NULL
);
CREATE TABLE audit_head (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  time INTEGER NOT NULL,
  signature BLOB NOT NULL
);
