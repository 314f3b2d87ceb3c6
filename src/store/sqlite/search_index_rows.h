#pragma once
// The search index rows of one resource's current version (schema_v4.sql): inserted from the
// entries the search module extracted, removed when a new version (or a delete) replaces it.
// Private to store/sqlite; run on the writer's connection inside its transaction.
//
// A bulk load stages its rows instead (the `_staged` tables: no key, appended in write order),
// because in SQLite's page-level WAL every commit rewrites each index page it touched, and a
// resource's ~20 rows land on ~20 pages all over the index. Merged in key order afterwards
// (MergeStagedRows), each index page is written about once. Staged rows are not searchable.
// Thread safety: used by the writer thread only.

#include <cstdint>
#include <string>

#include "search/index_entries.h"
#include "store/sqlite/name_ids.h"
#include "store/sqlite/sqlite_connection.h"

namespace ck::store::sqlite {

// Removes every index row of resource `rid`, staged or not.
Status RemoveIndexRows(Connection& db, std::int64_t rid);

// Inserts the rows of `entries` for resource `rid` of type `type_id` into the index, or with
// `staged` into the staging tables; the same value twice is one row (once merged).
Status InsertIndexRows(Connection& db, NameIds& params, std::int64_t type_id, std::int64_t rid,
                       const search::IndexEntries& entries, NewNames& new_params, bool staged);

// The parameter URL a composite's values are kept under for the key of their first component
// (search/index_entries.h, CompositeEntry): "<composite URL>$<system>|<code>".
std::string CompositeParamUrl(const std::string& composite_url, const std::string& key);

// Whether any row is staged.
Result<bool> HasStagedRows(Connection& db);

// Moves the staged rows of one index table (the next that has any) into it, in key order, and
// returns how many; 0 when none is left. Each call is meant to be its own transaction, so the
// WAL holds one table's pages at most.
Result<std::int64_t> MergeStagedRows(Connection& db);

}  // namespace ck::store::sqlite
