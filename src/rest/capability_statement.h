#pragma once
// The server's CapabilityStatement (GET /metadata): every R4 resource type with exactly the
// interactions this build supports, generated from the definitions, never hand-listed.
// Thread safety: pure function.

#include <string>

#include "fhir/definitions.h"
#include "util/time.h"

namespace ck::rest {

// What the configuration changes in the statement.
struct CapabilityFeatures {
  bool multiple_deletes = false;       // a conditional delete may remove more than one resource
  bool referential_integrity = false;  // referencePolicy "enforced"
};

std::string CapabilityStatementJson(const fhir::Definitions& definitions, const std::string& base_url, Millis started,
                                    const CapabilityFeatures& features);

}  // namespace ck::rest
