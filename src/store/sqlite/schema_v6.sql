-- Chartkeeper schema version 6.
-- Every search joins its candidates (rids) to `resource` for the current version's seq and
-- whether the resource is deleted. With both in the rid index, that join reads the index alone;
-- before, each candidate also cost a descent of the table by its text id (most of the time of a
-- patient's Observations sorted by date). rid stays unique by construction (the seq of the
-- resource's first version).
DROP INDEX resource_by_rid;
CREATE INDEX resource_by_rid ON resource(type_id, rid, deleted, seq);
