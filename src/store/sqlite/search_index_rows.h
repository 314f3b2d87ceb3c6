#pragma once
// The search index rows of one resource's current version (schema_v4.sql): inserted from the entries the search
// module extracted, removed when a new version (or a delete) replaces it. Private to
// store/sqlite; run on the writer's connection inside its transaction.
// Thread safety: used by the writer thread only.

#include <cstdint>

#include "search/index_entries.h"
#include "store/sqlite/name_ids.h"
#include "store/sqlite/sqlite_connection.h"

namespace ck::store::sqlite {

// Removes every index row of resource `rid`.
Status RemoveIndexRows(Connection& db, std::int64_t rid);

// Inserts the rows of `entries` for resource `rid` of type `type_id`; the same value twice is one
// row.
Status InsertIndexRows(Connection& db, NameIds& params, std::int64_t type_id, std::int64_t rid,
                       const search::IndexEntries& entries, NewNames& new_params);

}  // namespace ck::store::sqlite
