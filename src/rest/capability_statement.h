#pragma once
// The server's CapabilityStatement (GET /metadata): every R4 resource type with exactly the
// interactions this build supports, generated from the definitions, never hand-listed, and the
// custom search parameters that are searchable.
// Thread safety: pure function.

#include <string>

#include "fhir/definitions.h"
#include "search/custom_parameter.h"
#include "util/time.h"

namespace ck::rest {

// What the configuration changes in the statement.
struct CapabilityFeatures {
  bool multiple_deletes = false;       // a conditional delete may remove more than one resource
  bool referential_integrity = false;  // referencePolicy "enforced"
};

// `in_force`: the search parameters (R4's and the custom ones); those pending a reindex are left out.
std::string CapabilityStatementJson(const fhir::Definitions& definitions, const std::string& base_url, Millis started,
                                    const CapabilityFeatures& features, const search::ParameterSet& in_force);

}  // namespace ck::rest
