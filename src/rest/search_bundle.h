#pragma once
// Builds a FHIR `searchset` Bundle from a page of search results, embedding the stored JSON as
// is, with self, first and next links that carry the search and, for the next page, the cursor
// (the last id of this page: results are in id order), so the server keeps no state per search
// and a link stays valid across restarts. Parameters the search ignored are reported in an
// OperationOutcome entry (search.mode = outcome).
// Thread safety: pure function.

#include <string>
#include <utility>
#include <vector>

#include "search/query_parser.h"
#include "store/resource_store.h"

namespace ck::rest {

// `type_url`: the absolute URL of the type (".../fhir/Observation").
std::string SearchBundleJson(const store::SearchPage& page, const search::ParsedSearch& parsed, const std::string& base_url,
                             const std::string& type_url);

}  // namespace ck::rest
