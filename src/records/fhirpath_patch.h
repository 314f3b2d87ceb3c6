#pragma once
// FHIRPath Patch (FHIR R4 fhirpatch.html): a Parameters resource whose `operation` parameters
// add, insert, delete, replace and move elements found by FHIRPath paths. Applied in order to a
// bound resource tree; each operation sees the previous ones' result. The caller validates the
// result as it would any update (records/record_service.h does).
// Thread safety: pure functions over immutable Definitions.

#include "fhir/definitions.h"
#include "fhir/resource.h"
#include "util/status.h"

namespace ck::records {

// The patched resource, bound without enforcing cardinality (the caller's full validation does).
// Errors: kInvalid (HTTP 400) for a malformed patch: not a Parameters of operations, an unknown
// type, a missing part, a path that is not FHIRPath; kUnprocessable (422) when it cannot apply:
// a path that finds nothing (add, insert, replace, move) or several elements, an element the
// type does not have, a second value for a single element, an index out of range, a value of
// the wrong kind. Messages name the operation's index and path.
Result<fhir::Resource> ApplyFhirPathPatch(fhir::Resource resource, const fhir::Resource& patch,
                                          const fhir::Definitions& definitions);

}  // namespace ck::records
