#pragma once
// Builds a FHIR `searchset` Bundle from a page of search results, embedding the stored JSON (cut
// to the subset _summary or _elements asks for), with self, first, previous and next links that
// carry the search and the store's cursor for that page, so the server keeps no state per search
// and a link stays valid across restarts. Parameters the search ignored are reported in an
// OperationOutcome entry (search.mode = outcome), with the plan of an `_explain` as information
// issues, one per line.
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
