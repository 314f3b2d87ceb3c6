#pragma once
// Runs a search (search/search_query.h) on the SQLite schema: each condition becomes a test of
// the resource's current version against one index table (schema_v3.sql), with every value a
// bound parameter; results come in resource id order after the cursor. Private to store/sqlite.
// Thread safety: one call per connection at a time.

#include "search/search_query.h"
#include "store/resource_store.h"
#include "store/sqlite/name_ids.h"
#include "store/sqlite/sqlite_connection.h"

namespace ck::store::sqlite {

// REQUIRES: `db` is a reader (the count and the page share a read transaction opened here).
Result<SearchPage> RunSearch(Connection& db, NameIds& types, NameIds& params, const search::SearchQuery& query);

}  // namespace ck::store::sqlite
