#include "records/resource_patch.h"

#include <openssl/evp.h>

#include <algorithm>
#include <iterator>
#include <optional>

#include "fhir/json_writer.h"
#include "records/fhirpath_patch.h"
#include "util/json_patch.h"
#include "util/json_value.h"

namespace ck::records {
namespace {

// RFC 4648 base64 (whitespace ignored, as FHIR's base64Binary allows). nullopt if malformed.
std::optional<std::string> DecodeBase64(std::string_view text) {
  std::string compact;
  std::copy_if(text.begin(), text.end(), std::back_inserter(compact), [](char c) { return c != ' ' && c != '\n' && c != '\r' && c != '\t'; });
  if (compact.size() % 4 != 0) return std::nullopt;
  std::string out(compact.size() / 4 * 3, '\0');
  int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(compact.data()),
                               static_cast<int>(compact.size()));
  if (length < 0) return std::nullopt;
  const std::size_t padding = compact.ends_with("==") ? 2 : compact.ends_with("=") ? 1 : 0;
  out.resize(static_cast<std::size_t>(length) - padding);
  return out;
}

// Each operation may cost up to the resource's size (a JSON Patch insert into an array moves the
// rest of it; a FHIRPath Patch operation binds the resource again), so the operations times the
// size are capped: a 1 MB resource takes a thousand operations, a 10 MB one a hundred.
constexpr std::size_t kMaxPatchWork = std::size_t{1} << 30;

Status CheckWork(std::size_t operations, std::size_t resource_bytes) {
  if (operations == 0 || resource_bytes <= kMaxPatchWork / operations) return Status::Ok();
  return Status(StatusCode::kTooCostly, "a patch of " + std::to_string(operations) + " operations on a resource of " +
                                            std::to_string(resource_bytes) + " bytes is more work than this server does for one "
                                            "request; send fewer operations, or the whole resource with PUT");
}

}  // namespace

Result<ResourcePatch> PatchFromResource(const fhir::Resource& resource) {
  if (resource.type_name() == "Parameters") return ResourcePatch{PatchFormat::kFhirPathPatch, fhir::WriteJson(resource.root())};
  if (resource.type_name() != "Binary") {
    return Err(Status::Invalid("a PATCH entry's resource is a Parameters (FHIRPath Patch) or a Binary holding a JSON Patch"));
  }
  if (resource.root().TextOf("contentType") != kJsonPatchMediaType) {
    return Err(Status::Invalid("a PATCH entry's Binary must have contentType " + std::string(kJsonPatchMediaType)));
  }
  std::optional<std::string> data = DecodeBase64(resource.root().TextOf("data"));
  if (!data || data->empty()) return Err(Status::Invalid("a PATCH entry's Binary needs the JSON Patch as base64 data"));
  return ResourcePatch{PatchFormat::kJsonPatch, std::move(*data)};
}

Result<std::string> ApplyPatch(std::string_view current, const ResourcePatch& patch, const fhir::Definitions& definitions,
                               const fhir::ReadOptions& options) {
  if (patch.format == PatchFormat::kJsonPatch) {
    CK_ASSIGN_OR_RETURN(JsonValue operations, ParseJsonValue(patch.body, options.max_depth));
    CK_RETURN_IF_ERROR(CheckWork(operations.items.size(), current.size()));
    CK_ASSIGN_OR_RETURN(JsonValue document, ParseJsonValue(current, options.max_depth));
    CK_ASSIGN_OR_RETURN(JsonValue patched, ApplyJsonPatch(std::move(document), operations));
    return WriteJsonValue(patched);
  }
  auto parameters = fhir::ReadResource(patch.body, definitions, options);
  if (!parameters) return Err(std::move(parameters).error().WithContext("the FHIRPath Patch"));
  const fhir::Property* operations = parameters->root().Find("parameter");
  CK_RETURN_IF_ERROR(CheckWork(operations == nullptr ? 0 : operations->values.size(), current.size()));
  fhir::ReadOptions lenient = options;
  lenient.bind.enforce_cardinality = false;
  CK_ASSIGN_OR_RETURN(fhir::Resource resource, fhir::ReadResource(current, definitions, lenient));
  CK_ASSIGN_OR_RETURN(fhir::Resource patched, ApplyFhirPathPatch(std::move(resource), *parameters, definitions));
  return fhir::WriteJson(patched.root());
}

}  // namespace ck::records
