#pragma once
// Reads a type-level search request (`GET /fhir/Observation?code=http://loinc.org|2339-0&date=ge2024`)
// into a SearchQuery, checking every value: a malformed value, an unknown prefix or a modifier
// the parameter's type does not allow is an error naming the parameter. Commas separate values
// (OR), a repeated parameter adds a condition (AND); `\,` `\|` `\$` `\\` escape. Parameters the
// server does not know or does not support yet are ignored and listed (handling=lenient, the
// default) or refused (handling=strict).
// Thread safety: pure functions over the immutable extractor.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fhir/resource_subset.h"
#include "search/custom_parameter.h"
#include "search/search_query.h"
#include "search/search_zone.h"
#include "util/status.h"

namespace ck::search {

struct SearchRequest {
  std::string type;
  std::vector<std::pair<std::string, std::string>> parameters;  // decoded, in order
  bool strict = false;                 // Prefer: handling=strict
  std::string base_url;                // references to it are local ("http://host/fhir/Patient/1")
  std::string compartment_type;        // a compartment search: Patient/123/Observation
  std::string compartment_id;
  std::uint32_t default_count = 50;
  std::uint32_t max_count = 1000;
  // The parameters in force (custom_parameter.h); nullptr: R4's only.
  std::shared_ptr<const ParameterSet> in_force;
};

struct ParsedSearch {
  SearchQuery query;
  std::vector<Issue> ignored;  // parameters ignored (lenient handling), as warnings
  // The search parameters used (without paging ones), for the Bundle's links.
  std::vector<std::pair<std::string, std::string>> link_parameters;
  fhir::Subset subset;  // _summary, _elements: what of each resource to return
};

// Whether a request parameter goes into link_parameters: all but the page size, the cursor
// and the format, which the links set themselves.
bool KeptInLinks(std::string_view name);

// Dates without a zone are read in `zone`, as the index placed them (search_zone.h).
// Errors: kNotFound (unknown type), kInvalid naming the parameter and what is wrong.
Result<ParsedSearch> ParseSearch(const SearchRequest& request, const SearchZone& zone = SearchZone());

}  // namespace ck::search
