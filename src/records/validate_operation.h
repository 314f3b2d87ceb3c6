#pragma once
// The body of $validate (FHIR R4 Resource/$validate): the resource itself, or a Parameters
// resource with `resource`, `mode` (create, update, delete) and `profile` parameters. What the
// validation finds is RecordService::ValidateOnly's; this reads the request.
// Thread safety: pure functions.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/json_reader.h"
#include "fhir/resource.h"
#include "util/status.h"

namespace ck::records {

enum class ValidateMode { kCreate, kUpdate, kDelete };

struct ValidateInput {
  std::optional<fhir::Node> resource;  // unbound; absent when only a delete is asked about
  ValidateMode mode = ValidateMode::kCreate;
  std::vector<std::string> profiles;  // canonical URLs to check the resource against
};

// Reads a $validate body (may be empty for mode delete); `mode` and `profile` from the URL's
// query count as parameters too. Errors: kInvalid (not JSON, an unknown mode, a parameter of the
// wrong kind, no resource for mode create or update).
Result<ValidateInput> ReadValidateInput(std::string_view body, std::string_view query_mode, std::string_view query_profile,
                                        const fhir::ReadOptions& options);

}  // namespace ck::records
