#pragma once
// How a constraint's FHIRPath result is judged, the same for the R4 invariants and those a
// profile adds: it holds when it evaluates to true, and an empty result says nothing against it.

#include "fhirpath/value.h"

namespace ck::validation {

inline bool ConstraintHolds(const fhirpath::Collection& result) {
  return result.empty() || (result.size() == 1 && result[0].kind == fhirpath::ValueKind::kBoolean && result[0].boolean);
}

}  // namespace ck::validation
