#pragma once
// A PATCH's body and how it applies to a stored resource's JSON: JSON Patch (RFC 6902,
// application/json-patch+json; util/json_patch.h) or FHIRPath Patch (a Parameters resource;
// records/fhirpath_patch.h). Inside a Bundle a JSON Patch travels as a Binary whose data is the
// patch (FHIR R4 http, "Patch" in transactions).
// Thread safety: pure functions over immutable Definitions.

#include <string>
#include <string_view>

#include "fhir/definitions.h"
#include "fhir/json_reader.h"
#include "fhir/resource.h"
#include "util/status.h"

namespace ck::records {

enum class PatchFormat { kJsonPatch, kFhirPathPatch };

struct ResourcePatch {
  PatchFormat format = PatchFormat::kJsonPatch;
  std::string body;  // the JSON Patch array, or the Parameters resource's JSON
};

inline constexpr std::string_view kJsonPatchMediaType = "application/json-patch+json";

// The patch a Bundle entry's resource carries: a Parameters resource, or a Binary of
// application/json-patch+json. Errors: kInvalid (another resource, a Binary of another type,
// data that is not base64).
Result<ResourcePatch> PatchFromResource(const fhir::Resource& resource);

// `current` (a resource's JSON) with `patch` applied, as JSON text, not yet validated beyond
// what applying needs. Errors: as ApplyJsonPatch and ApplyFhirPathPatch (kInvalid for a
// malformed patch, kUnprocessable for one that cannot apply); kTooCostly (400) when the
// operations times the resource's size pass 1 GiB (each operation may cost the resource's size).
Result<std::string> ApplyPatch(std::string_view current, const ResourcePatch& patch, const fhir::Definitions& definitions,
                               const fhir::ReadOptions& options);

}  // namespace ck::records
