#include "rest/capability_statement.h"

#include "fhir/json_writer.h"

namespace ck::rest {

std::string CapabilityStatementJson(const fhir::Definitions& definitions, const std::string& base_url, Millis started) {
  static constexpr std::string_view kInteractions[] = {"read",   "vread",           "update",      "delete",
                                                       "create", "history-instance", "history-type"};
  std::string out = R"({"resourceType":"CapabilityStatement","status":"active","date":)";
  fhir::AppendJsonString(out, FormatInstant(started));
  out += R"(,"publisher":"Chartkeeper","kind":"instance","software":{"name":"Chartkeeper","version":")" CK_VERSION R"("},)";
  out += R"("implementation":{"description":"Chartkeeper health information management server","url":)";
  fhir::AppendJsonString(out, base_url);
  out += R"(},"fhirVersion":"4.0.1","format":["application/fhir+json","json"],"rest":[{"mode":"server","resource":[)";
  bool first = true;
  for (const fhir::TypeDefinition* type : definitions.ResourceTypes()) {
    if (!first) out += ',';
    first = false;
    out += R"({"type":)";
    fhir::AppendJsonString(out, type->name);
    out += R"(,"interaction":[)";
    for (std::size_t i = 0; i < std::size(kInteractions); ++i) {
      if (i > 0) out += ',';
      out += R"({"code":")" + std::string(kInteractions[i]) + R"("})";
    }
    out += R"(],"versioning":"versioned-update","readHistory":true,"updateCreate":true,"conditionalCreate":false,)"
           R"("conditionalRead":"full-support","conditionalUpdate":false,"conditionalDelete":"not-supported"})";
  }
  out += R"(],"interaction":[{"code":"history-system"}],)"
         R"("operation":[{"name":"validate","definition":"http://hl7.org/fhir/OperationDefinition/Resource-validate"}]}]})";
  return out;
}

}  // namespace ck::rest
