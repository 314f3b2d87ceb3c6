#pragma once
// Subsets of a resource for `_summary` and `_elements` (FHIR R4 search, "Summary" and
// "Elements"): what a client asks for to keep answers small. A subset keeps resourceType, id and
// meta, and meta gains the SUBSETTED tag (v3 ObservationValue) so no one stores it back as the
// whole resource.
//   summary  the elements the R4 definitions mark isSummary, at the top and inside backbone
//            elements (a data type's value is kept whole);
//   text     text, and the top-level mandatory elements;
//   data     everything but text;
//   elements the named top-level elements ("value" covers valueQuantity...) and the mandatory
//            ones.
// Thread safety: pure functions.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/resource.h"

namespace ck::fhir {

struct Subset {
  enum class Mode { kAll, kSummary, kText, kData, kElements };
  Mode mode = Mode::kAll;
  std::vector<std::string> elements;  // kElements: element names
};

// The mode of a `_summary` value other than count: true, text, data, false; nullopt otherwise.
std::optional<Subset::Mode> SummaryMode(std::string_view value);

// The element names of an `_elements` value ("name, birthDate"), spaces trimmed; nullopt if one
// is empty.
std::optional<std::vector<std::string>> ElementNames(std::string_view value);

// Removes from a bound resource what `subset` leaves out, and tags it; kAll changes nothing.
void ApplySubset(Resource& resource, const Subset& subset);

// The same on stored JSON: returned as is for kAll, or when it no longer reads under today's
// rules (the whole resource is better than none).
std::string SubsetJson(const std::string& json, const Subset& subset);

}  // namespace ck::fhir
