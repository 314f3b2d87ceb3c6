#include "validation/binding_check.h"

namespace ck::validation {
namespace {

using fhir::BindingStrength;
using fhir::ElementPath;
using fhir::JsonKind;
using fhir::Node;
using fhir::Property;

std::string Clip(std::string_view text) {
  return std::string(text.substr(0, ElementPath::kMaxNameLength)) + (text.size() > ElementPath::kMaxNameLength ? "..." : "");
}

std::string Describe(const Node& coding) {
  std::string_view system = coding.TextOf("system");
  std::string_view code = coding.TextOf("code");
  return "'" + (system.empty() ? std::string() : Clip(system) + "|") + Clip(code) + "'";
}

std::string_view StrengthName(BindingStrength strength) {
  switch (strength) {
    case BindingStrength::kRequired: return "required";
    case BindingStrength::kExtensible: return "extensible";
    case BindingStrength::kPreferred: return "preferred";
    case BindingStrength::kNone: break;
  }
  return "example";
}

// A Coding is a member if its system and code are; a Coding without a code says nothing.
bool CodingIsMember(const terminology::ValueSet& value_set, const Node& coding) {
  std::string_view code = coding.TextOf("code");
  if (code.empty()) return false;
  std::string_view system = coding.TextOf("system");
  return system.empty() ? value_set.ContainsCode(code) : value_set.Contains(system, code);
}

void Walk(const Node& node, const ElementPath& path, const terminology::ValueSetLookup& value_sets, IssueCollector& issues) {
  for (const Property& property : node.properties) {
    if (property.slot == nullptr || property.slot->is_primitive_extension) continue;
    const fhir::ElementDefinition& element = *property.slot->element;
    for (std::size_t i = 0; i < property.values.size() && !issues.full(); ++i) {
      const Node& value = property.values[i];
      if (value.kind == JsonKind::kNull) continue;
      const ElementPath value_path{&path, property.name, property.is_array ? static_cast<std::ptrdiff_t>(i) : -1};
      if (element.binding_strength != BindingStrength::kNone) {
        CheckBoundValue(value, property.slot->type->name, element.binding_strength, element.value_set, element.path, value_sets,
                        value_path, issues);
      }
      if (value.kind == JsonKind::kObject) Walk(value, value_path, value_sets, issues);
    }
  }
}

}  // namespace

void CheckBoundValue(const Node& value, std::string_view type, BindingStrength strength, std::string_view value_set_url,
                     std::string_view bound_at, const terminology::ValueSetLookup& value_sets, const ElementPath& path,
                     IssueCollector& issues) {
  const IssueSeverity severity = strength == BindingStrength::kRequired ? IssueSeverity::kError : IssueSeverity::kWarning;
  if (!issues.Wants(severity) || (type != "code" && type != "Coding" && type != "CodeableConcept" && type != "Quantity")) return;
  const terminology::ValueSet* value_set = value_sets.Find(value_set_url);
  if (value_set == nullptr || !value_set->expanded()) {
    if (strength == BindingStrength::kPreferred) return;
    std::string reason = value_set == nullptr ? "it is not known here" : value_set->not_expandable_reason();
    issues.Add(IssueSeverity::kInformation, IssueType::kInformational,
               "the " + std::string(StrengthName(strength)) + " binding of " + std::string(bound_at) + " to " + std::string(value_set_url) +
                   " was not checked: " + reason,
               path.Render(), "binding " + std::string(value_set_url));
    return;
  }
  std::string phrase;  // what is wrong, up to the value set: "'robot' is not"
  if (type == "code") {
    if (value_set->ContainsCode(value.text)) return;
    phrase = "'" + Clip(value.text) + "' is not";
  } else if (type == "Coding" || type == "Quantity") {  // a Quantity's unit: its system and code
    if (type == "Quantity" && value.TextOf("code").empty()) return;  // a unit in words only says nothing
    if (CodingIsMember(*value_set, value)) return;
    phrase = Describe(value) + " is not";
  } else {
    const Property* codings = value.Find("coding");
    for (std::size_t i = 0; codings != nullptr && i < codings->values.size(); ++i) {
      if (CodingIsMember(*value_set, codings->values[i])) return;
    }
    if (codings == nullptr) {
      // Text alone meets an extensible or preferred binding; a required one needs a code.
      if (strength != BindingStrength::kRequired) return;
      phrase = "there is no coding; one is required";
    } else {
      phrase = "none of its codings (" + Describe(codings->values[0]) + (codings->values.size() > 1 ? ", ..." : "") + ") is";
    }
  }
  issues.Add(severity, IssueType::kCodeInvalid,
             phrase + " in the value set " + std::string(value_set_url) + " (" + std::string(StrengthName(strength)) + " binding of " +
                 std::string(bound_at) + ")",
             path.Render(), "binding " + std::string(value_set_url));
}

void CheckBindings(const fhir::Resource& resource, const terminology::ValueSetLookup& value_sets, IssueCollector& issues) {
  Walk(resource.root(), ElementPath{nullptr, resource.type_name()}, value_sets, issues);
}

}  // namespace ck::validation
