-- Chartkeeper schema version 12: the links that leave audit_link_recent go to audit_link_run,
-- keyed by their run (the first record of the step that moved them) before patient, agent or
-- entity. Each step's rows then land together at the end of the table, on a few new pages,
-- where audit_link's key (kind, value, seq) spread them over a page per value: a step of 4,096
-- rows rewrote about a thousand pages of audit_link, two thirds of every page an audited read
-- wrote. A search seeks the value in each run (docs/design/audit.md). Runs partition the
-- records in order: a run holds records from its number up to the next run's. audit_link's rows
-- become runs of 4,096 sequence numbers.
CREATE TABLE audit_link_run (
  run INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  value TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (run, kind, value, seq)
) WITHOUT ROWID;
INSERT INTO audit_link_run (run, kind, value, seq) SELECT seq / 4096 * 4096, kind, value, seq FROM audit_link ORDER BY 1, 2, 3, 4;
DROP TABLE audit_link;
