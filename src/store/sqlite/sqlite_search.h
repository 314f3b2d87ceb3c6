#pragma once
// Runs a search (search/search_query.h) on the SQLite schema (schema_v4.sql), with every value a
// bound parameter. A small planner picks where the candidates come from: the intersection of
// the sets that come in rid order (rid_intersection.h), the smallest set one condition selects
// when it is small, one set the index yields in rid order (so the search stops when its page is
// full), or the type's resources in rid order; every other condition is tested on each
// candidate through the index's rid key (docs/design/search.md). Results come in _sort order,
// then rid order (creation order), after the cursor. A search of contained resources
// (`_contained=true`) runs the same way on their rows (schema_v7.sql, negated type ids) and
// answers each container once. Private to store/sqlite.
// Thread safety: one call per connection at a time.

#include <string_view>
#include <vector>

#include "search/search_query.h"
#include "store/resource_store.h"
#include "store/sqlite/name_ids.h"
#include "store/sqlite/sqlite_connection.h"

namespace ck::store::sqlite {

// The count and the page share one read transaction: opened here, or the one `db` has open (a
// write's).
Result<SearchPage> RunSearch(Connection& db, NameIds& types, NameIds& params, const search::SearchQuery& query);

// One page of the matches of several searches merged by their common _sort keys (ResourceStore::
// SearchMerged). REQUIRES: as RunSearch.
Result<SearchPage> RunMergedSearch(Connection& db, NameIds& types, NameIds& params, const std::vector<search::SearchQuery>& parts,
                                   std::string_view cursor);

// ResourceStore::Reach, in one read transaction (opened here, or the one `db` has open).
Result<CompartmentReach> RunReach(Connection& db, NameIds& types, NameIds& params, const search::CompartmentFilter& compartment);

}  // namespace ck::store::sqlite
