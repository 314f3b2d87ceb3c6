-- Chartkeeper schema version 5: a type's history is read newest first by a cursor (the seq of
-- the last version shown), one index range per page, so a page costs the same at ten million
-- versions as at ten thousand. The index holds the rowid (seq) after type_id, in seq order.
CREATE INDEX resource_version_by_type ON resource_version(type_id);
