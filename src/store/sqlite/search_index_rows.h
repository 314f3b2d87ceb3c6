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
#include <utility>

#include "search/index_entries.h"
#include "store/sqlite/name_ids.h"
#include "store/sqlite/sqlite_connection.h"

namespace ck::store::sqlite {

// A resource whose rows are written: its type, its rid, and its current version's seq.
struct IndexedResource {
  std::int64_t type_id;
  std::int64_t rid;
  std::int64_t seq;
};

// The name tables a write may add to, and the names it added (published once it commits).
struct WriteNames {
  NameIds& types;
  NameIds& params;
  NewNames& new_types;
  NewNames& new_params;
};

// A contained resource is indexed under the rid ContainedRid(container's rid, position in its
// `contained`), under the negated id of its type, and has a row in `contained_resource`
// (schema_v7.sql). These rids are below every resource's (which are positive), a container's
// are consecutive, and ContainerOf gives the container's rid and the position back.
inline constexpr std::size_t kMaxContained = std::size_t{1} << 20;
std::int64_t ContainedRid(std::int64_t container_rid, std::size_t position);
std::pair<std::int64_t, std::size_t> ContainerOf(std::int64_t contained_rid);

// Removes every index row of resource `rid` and of the resources it contains, staged or not.
Status RemoveIndexRows(Connection& db, std::int64_t rid);

// Inserts the rows of `entries` for `resource`, and of the resources it contains, into the
// index, or with `staged` into the staging tables; the same value twice is one row (once
// merged). Errors: kTooLarge past kMaxContained contained resources.
Status InsertIndexRows(Connection& db, WriteNames names, IndexedResource resource, const search::IndexEntries& entries, bool staged);

// Replaces the rows of one parameter (`param_url`, with a composite's rows under
// CompositeParamUrl(param_url, ...)) of resource `rid` and of the resources it contains with
// those of `entries`, which hold that parameter's entries only (reindexing one parameter).
// Staged rows are left alone.
Status ReplaceParameterRows(Connection& db, WriteNames names, IndexedResource resource, const std::string& param_url,
                            const search::IndexEntries& entries);

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
