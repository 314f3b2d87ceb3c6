#include "records/validate_operation.h"

namespace ck::records {
namespace {

Status BadParameter(std::string message) {
  return Status::Invalid(message).WithIssues({{IssueType::kInvalid, std::move(message), "Parameters.parameter"}});
}

Result<ValidateMode> ParseMode(std::string_view mode) {
  if (mode == "create") return ValidateMode::kCreate;
  if (mode == "update") return ValidateMode::kUpdate;
  if (mode == "delete") return ValidateMode::kDelete;
  return Err(BadParameter("mode must be create, update or delete"));
}

}  // namespace

Result<ValidateInput> ReadValidateInput(std::string_view body, std::string_view query_mode, std::string_view query_profile,
                                        const fhir::ReadOptions& options) {
  ValidateInput input;
  std::string mode(query_mode);
  if (!query_profile.empty()) input.profiles.emplace_back(query_profile);
  if (!body.empty()) {
    CK_ASSIGN_OR_RETURN(fhir::Node tree, fhir::ParseJsonTree(body, options));
    if (tree.TextOf("resourceType") != "Parameters") {
      input.resource = std::move(tree);
    } else if (fhir::Property* parameters = tree.Find("parameter"); parameters != nullptr) {
      for (fhir::Node& parameter : parameters->values) {
        std::string_view name = parameter.TextOf("name");
        if (name == "resource") {
          fhir::Property* resource = parameter.Find("resource");
          if (resource == nullptr || resource->values.size() != 1) return Err(BadParameter("the resource parameter holds no resource"));
          input.resource = std::move(resource->values[0]);
        } else if (name == "mode") {
          mode = parameter.TextOf("valueCode");
          if (mode.empty()) return Err(BadParameter("the mode parameter needs a valueCode"));
        } else if (name == "profile") {
          std::string_view profile = parameter.TextOf("valueUri");
          if (profile.empty()) profile = parameter.TextOf("valueCanonical");
          if (profile.empty()) return Err(BadParameter("the profile parameter needs a valueUri"));
          input.profiles.emplace_back(profile);
        } else {
          return Err(BadParameter("unknown parameter '" + std::string(name.substr(0, 64)) + "' (resource, mode and profile are known)"));
        }
      }
    }
  }
  if (!mode.empty()) {
    CK_ASSIGN_OR_RETURN(input.mode, ParseMode(mode));
  }
  if (input.mode != ValidateMode::kDelete && !input.resource) {
    return Err(BadParameter("send the resource to validate, as the body or as the resource parameter of a Parameters body"));
  }
  return input;
}

}  // namespace ck::records
