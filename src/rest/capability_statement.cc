#include "rest/capability_statement.h"

#include <algorithm>
#include <map>

#include "fhir/json_writer.h"
#include "search/index_extractor.h"

namespace ck::rest {
namespace {

std::string_view SearchParamTypeCode(fhir::SearchParamType type) {
  switch (type) {
    case fhir::SearchParamType::kNumber: return "number";
    case fhir::SearchParamType::kDate: return "date";
    case fhir::SearchParamType::kString: return "string";
    case fhir::SearchParamType::kToken: return "token";
    case fhir::SearchParamType::kReference: return "reference";
    case fhir::SearchParamType::kComposite: return "composite";
    case fhir::SearchParamType::kQuantity: return "quantity";
    case fhir::SearchParamType::kUri: return "uri";
    case fhir::SearchParamType::kSpecial: return "special";
  }
  return "special";
}

// How values of a parameter type may be searched (search/query_parser.h), for the
// parameter's documentation.
std::string_view ModifiersOf(fhir::SearchParamType type) {
  switch (type) {
    case fhir::SearchParamType::kNumber:
    case fhir::SearchParamType::kDate:
    case fhir::SearchParamType::kQuantity: return "prefixes eq ne gt lt ge le sa eb ap; modifier :missing";
    case fhir::SearchParamType::kString: return "modifiers :exact :contains :missing";
    case fhir::SearchParamType::kToken: return "modifiers :not :text :of-type :missing";
    case fhir::SearchParamType::kReference: return "modifiers :[type] :identifier :missing";
    case fhir::SearchParamType::kUri: return "modifiers :below :above :missing";
    case fhir::SearchParamType::kComposite: return "code$value, the value with its component's prefixes; no modifiers";
    case fhir::SearchParamType::kSpecial: return "";
  }
  return "";
}

void AppendStrings(std::string& out, std::string_view name, const std::vector<std::string>& values) {
  out += ",\"";
  out += name;
  out += "\":[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    fhir::AppendJsonString(out, values[i]);
  }
  out += ']';
}

// `,"searchParam":[...]` for `params`, each documented with `documentation(param)`.
template <class Documentation>
void AppendSearchParams(std::string& out, const std::vector<search::Param>& params, Documentation documentation) {
  out += R"(,"searchParam":[)";
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i > 0) out += ',';
    out += R"({"name":)";
    fhir::AppendJsonString(out, params[i]->code);
    out += R"(,"definition":)";
    fhir::AppendJsonString(out, params[i]->url);
    out += R"(,"type":)";
    fhir::AppendJsonString(out, SearchParamTypeCode(params[i]->type));
    out += R"(,"documentation":)";
    fhir::AppendJsonString(out, documentation(params[i]));
    out += '}';
  }
  out += ']';
}

// AuditEvent is the server's own audit trail (rest/audit_api.h): read and searched by the
// parameters that searches of it take, never written.
void AppendAuditEvent(std::string& out, const search::IndexExtractor& extractor) {
  static constexpr std::string_view kSearched[] = {"patient", "agent", "entity", "date", "type", "subtype", "action", "outcome"};
  std::vector<search::Param> params;
  for (search::Param param : extractor.ParametersOf("AuditEvent")) {
    if (std::find(std::begin(kSearched), std::end(kSearched), param->code) != std::end(kSearched)) params.push_back(param);
  }
  out += R"({"type":"AuditEvent","documentation":"The server's audit trail: read-only, for the auditor and admin roles; )"
         R"(newest first","interaction":[{"code":"read"},{"code":"search-type"}])";
  AppendSearchParams(out, params, [](search::Param param) -> std::string_view {
    if (param->code == "agent") return "a user name or client id; a comma for any of several";
    switch (param->type) {
      case fhir::SearchParamType::kDate: return "prefixes eq gt lt ge le sa eb";
      case fhir::SearchParamType::kReference: return "Type/id (patient: also the id); a comma for any of several";
      default: return "the code, or system|code; a comma for any of several";
    }
  });
  out += R"(,"versioning":"no-version","readHistory":false,"updateCreate":false})";
}

}  // namespace

std::string CapabilityStatementJson(const fhir::Definitions& definitions, const std::string& base_url, Millis started,
                                    const CapabilityFeatures& features, const search::ParameterSet& in_force) {
  static constexpr std::string_view kInteractions[] = {"read",   "vread",  "update",       "patch",
                                                       "delete", "create", "history-instance", "history-type",
                                                       "search-type"};
  const search::IndexExtractor& extractor = *in_force.extractor;
  auto searchable = [&](const std::string& type) {
    std::vector<search::Param> params = extractor.ParametersOf(type);
    std::erase_if(params, [&](search::Param param) { return !in_force.Searchable(param); });
    return params;
  };
  std::string out = R"({"resourceType":"CapabilityStatement","status":"active","date":)";
  fhir::AppendJsonString(out, FormatInstant(started));
  out += R"(,"publisher":"Chartkeeper","kind":"instance","software":{"name":"Chartkeeper","version":")" CK_VERSION R"("},)";
  out += R"("implementation":{"description":"Chartkeeper health information management server","url":)";
  fhir::AppendJsonString(out, base_url);
  out += R"(},"fhirVersion":"4.0.1","format":["application/fhir+json","json"],"rest":[{"mode":"server","resource":[)";
  // _include values of each type (its reference parameters), and _revinclude values (the
  // reference parameters of any type that may point to it).
  std::map<std::string, std::vector<std::string>> includes;
  std::map<std::string, std::vector<std::string>> revincludes;
  for (const fhir::TypeDefinition* type : definitions.ResourceTypes()) {
    if (type->name == "AuditEvent") continue;  // the audit trail is searched on its own (below)
    for (search::Param param : searchable(type->name)) {
      if (param->type != fhir::SearchParamType::kReference) continue;
      const std::string value = type->name + ":" + param->code;
      includes[type->name].push_back(value);
      for (const std::string& target : param->targets) revincludes[target].push_back(value);
    }
  }
  bool first = true;
  for (const fhir::TypeDefinition* type : definitions.ResourceTypes()) {
    if (!first) out += ',';
    first = false;
    if (type->name == "AuditEvent") {
      AppendAuditEvent(out, extractor);
      continue;
    }
    out += R"({"type":)";
    fhir::AppendJsonString(out, type->name);
    out += R"(,"interaction":[)";
    for (std::size_t i = 0; i < std::size(kInteractions); ++i) {
      if (i > 0) out += ',';
      out += R"({"code":")" + std::string(kInteractions[i]) + R"("})";
    }
    out += ']';
    // The parameters this server indexes for the type, each searchable with its type's prefixes
    // and modifiers (search/query_parser.h).
    std::vector<search::Param> params = searchable(type->name);
    params.push_back(extractor.last_updated());
    // Full text (search/full_text.h): _content of every resource, _text of those with a narrative.
    params.push_back(definitions.FindSearchParameter("http://hl7.org/fhir/SearchParameter/Resource-content"));
    if (type->base != nullptr && type->base->name == "DomainResource") {
      params.push_back(definitions.FindSearchParameter("http://hl7.org/fhir/SearchParameter/DomainResource-text"));
    }
    AppendSearchParams(out, params, [](search::Param param) -> std::string_view {
      if (param->code == "_text" || param->code == "_content") return "full text: words, prefix*, \"phrases\", AND, OR, NOT, parentheses";
      return ModifiersOf(param->type);
    });
    std::vector<std::string> type_includes = {"*"};
    type_includes.insert(type_includes.end(), includes[type->name].begin(), includes[type->name].end());
    AppendStrings(out, "searchInclude", type_includes);
    std::vector<std::string> type_revincludes = {"*"};
    type_revincludes.insert(type_revincludes.end(), revincludes[type->name].begin(), revincludes[type->name].end());
    AppendStrings(out, "searchRevInclude", type_revincludes);
    out += R"(,"versioning":"versioned-update","readHistory":true,"updateCreate":true,"conditionalCreate":true,)"
           R"("conditionalRead":"full-support","conditionalUpdate":true,"conditionalDelete":")" +
           std::string(features.multiple_deletes ? "multiple" : "single") + "\"";
    AppendStrings(out, "referencePolicy", features.referential_integrity ? std::vector<std::string>{"literal", "enforced"}
                                                                          : std::vector<std::string>{"literal"});
    if (type->name == "Patient") {
      out += R"(,"operation":[{"name":"everything","definition":"http://hl7.org/fhir/OperationDefinition/Patient-everything"}])";
    } else if (type->name == "Encounter") {  // defined by FHIR R5; this server answers it on R4
      out += R"(,"operation":[{"name":"everything","definition":"http://hl7.org/fhir/OperationDefinition/Encounter-everything"}])";
    }
    out += '}';
  }
  out += R"(],"interaction":[{"code":"transaction"},{"code":"batch"},{"code":"history-system"},{"code":"search-system"}],)"
         R"("operation":[{"name":"validate","definition":"http://hl7.org/fhir/OperationDefinition/Resource-validate"}]}]})";
  return out;
}

}  // namespace ck::rest
