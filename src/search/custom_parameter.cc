#include "search/custom_parameter.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <mutex>

namespace ck::search {
namespace {

Status Unprocessable(const std::string& message) {
  return Status(StatusCode::kUnprocessable, message).WithIssues({{IssueType::kProcessing, message, ""}});
}

bool IsCodeCharacter(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }

std::vector<std::string> TextsOf(const fhir::Node& node, std::string_view name) {
  std::vector<std::string> out;
  if (const fhir::Property* property = node.Find(name)) {
    for (const fhir::Node& value : property->values) out.emplace_back(value.text);
  }
  return out;
}

}  // namespace

Result<CustomParameter> ReadSearchParameter(const fhir::Resource& resource, const std::vector<Param>& known) {
  const fhir::Definitions& definitions = fhir::Definitions::R4();
  const fhir::Node& root = resource.root();
  CustomParameter out;
  out.active = root.TextOf("status") == "active";
  fhir::SearchParameterDefinition& param = out.definition;
  param.url = root.TextOf("url");
  param.code = root.TextOf("code");
  param.expression = root.TextOf("expression");
  param.type = fhir::SearchParamTypeOf(root.TextOf("type"));
  param.bases = TextsOf(root, "base");
  param.targets = TextsOf(root, "target");
  if (const fhir::Property* components = root.Find("component")) {
    for (const fhir::Node& component : components->values) {
      param.components.push_back({std::string(component.TextOf("definition")), std::string(component.TextOf("expression"))});
    }
  }
  if (!out.active) return out;
  if (param.url.empty()) return Err(Unprocessable("SearchParameter.url: a custom search parameter needs a url"));
  if (definitions.FindSearchParameter(param.url) != nullptr) {
    return Err(Unprocessable("SearchParameter.url: " + param.url + " is an R4 parameter's; give the custom parameter a url of its own"));
  }
  if (param.code.empty() || param.code[0] == '_' || !std::all_of(param.code.begin(), param.code.end(), IsCodeCharacter)) {
    return Err(Unprocessable("SearchParameter.code: '" + param.code +
                             "' is not a code this server can search by (letters, digits, '-' and '_', not starting with '_')"));
  }
  if (param.type == fhir::SearchParamType::kSpecial) {
    return Err(Unprocessable("SearchParameter.type: '" + std::string(root.TextOf("type")) +
                             "' is not supported (token, string, date, reference, quantity, number, uri or composite)"));
  }
  if (param.bases.empty()) return Err(Unprocessable("SearchParameter.base: name the resource types the parameter applies to"));
  for (const std::string& base : param.bases) {
    const bool abstract = base == "Resource" || base == "DomainResource";  // every type, every type with a narrative
    if (!abstract && definitions.FindResourceType(base) == nullptr) {
      return Err(Unprocessable("SearchParameter.base: '" + base + "' is not a resource type"));
    }
  }
  for (const std::string& type : TypesCoveredBy(param.bases)) {
    for (Param r4 : IndexExtractor::R4().ParametersOf(type)) {
      if (r4->code == param.code && out.not_in_force.empty()) {
        out.not_in_force = type + " already has the R4 parameter '" + param.code + "' (" + r4->url + "), which searches use";
      }
    }
  }
  for (const std::string& target : param.targets) {
    if (definitions.FindResourceType(target) == nullptr) return Err(Unprocessable("SearchParameter.target: '" + target + "' is not a resource type"));
  }
  if (param.expression.empty()) return Err(Unprocessable("SearchParameter.expression: this server indexes by a FHIRPath expression; give one"));
  if (param.type == fhir::SearchParamType::kComposite) {
    if (param.components.size() < 2 || param.components.size() > 3) {
      return Err(Unprocessable("SearchParameter.component: a composite needs two or three components"));
    }
    for (const auto& component : param.components) {
      const bool custom = std::any_of(known.begin(), known.end(), [&](Param p) { return p->url == component.definition; });
      if (!custom && definitions.FindSearchParameter(component.definition) == nullptr) {
        return Err(Unprocessable("SearchParameter.component.definition: '" + component.definition + "' is not a parameter this server knows"));
      }
      if (component.expression.empty()) return Err(Unprocessable("SearchParameter.component.expression: each component needs one"));
    }
  }
  // Compiled and type-checked on every type of its bases, as writes will use it.
  std::vector<Param> with_known = known;
  with_known.push_back(&param);
  if (auto compiled = IndexExtractor::WithCustom(with_known); !compiled) {
    return Err(Unprocessable("SearchParameter.expression: " + compiled.error().message()));
  }
  return out;
}

std::vector<std::string> TypesCoveredBy(const std::vector<std::string>& bases) {
  std::vector<std::string> types;
  for (const fhir::TypeDefinition* type : fhir::Definitions::R4().ResourceTypes()) {
    if (type->is_abstract) continue;
    for (const std::string& base : bases) {
      bool applies = base == type->name || base == "Resource";
      for (const fhir::TypeDefinition* t = type->base; !applies && base == "DomainResource" && t != nullptr; t = t->base) {
        applies = t->name == "DomainResource";
      }
      if (applies) {
        types.push_back(type->name);
        break;
      }
    }
  }
  std::sort(types.begin(), types.end());
  return types;
}

Param KeepDefinition(fhir::SearchParameterDefinition definition) {
  static std::mutex mutex;
  static auto* const kept = new std::deque<fhir::SearchParameterDefinition>();
  std::lock_guard lock(mutex);
  kept->push_back(std::move(definition));
  return &kept->back();
}

Param ParameterSet::FindCustom(const std::string& url) const {
  for (Param param : custom) {
    if (param->url == url) return param;
  }
  return nullptr;
}

std::shared_ptr<const ParameterSet> ParameterSet::R4() {
  static const std::shared_ptr<const ParameterSet> set = [] {
    auto built = std::make_shared<ParameterSet>();
    built->extractor = std::shared_ptr<const IndexExtractor>(std::shared_ptr<const IndexExtractor>(), &IndexExtractor::R4());
    return built;
  }();
  return set;
}

}  // namespace ck::search
