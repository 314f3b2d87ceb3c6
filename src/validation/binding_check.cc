#include "validation/binding_check.h"

#include "fhir/element_path.h"

namespace ck::validation {
namespace {

using fhir::ElementPath;
using fhir::JsonKind;
using fhir::Node;
using fhir::Property;

class BindingChecker {
 public:
  BindingChecker(const terminology::ValueSets& value_sets, std::size_t max_issues)
      : value_sets_(value_sets), max_issues_(max_issues) {}

  void Walk(const Node& node, const ElementPath& path) {
    for (const Property& property : node.properties) {
      if (property.slot == nullptr || property.slot->is_primitive_extension) continue;
      const fhir::ElementDefinition& element = *property.slot->element;
      for (std::size_t i = 0; i < property.values.size() && issues_.size() < max_issues_; ++i) {
        const Node& value = property.values[i];
        if (value.kind == JsonKind::kNull) continue;
        const ElementPath value_path{&path, property.name, property.is_array ? static_cast<std::ptrdiff_t>(i) : -1};
        if (element.binding_strength == fhir::BindingStrength::kRequired) Check(element, *property.slot->type, value, value_path);
        if (value.kind == JsonKind::kObject) Walk(value, value_path);
      }
    }
  }

  std::vector<Issue> TakeIssues() { return std::move(issues_); }

 private:
  void Check(const fhir::ElementDefinition& element, const fhir::TypeDefinition& type, const Node& value,
             const ElementPath& path) {
    const terminology::ValueSet* value_set = value_sets_.Find(element.value_set);
    if (value_set == nullptr || !value_set->expanded()) return;
    if (type.name == "code") {
      if (!value_set->ContainsCode(value.text)) Report(element, "'" + Clip(value.text) + "' is not", path);
    } else if (type.name == "Coding") {
      if (!CodingIsMember(*value_set, value)) Report(element, Describe(value) + " is not", path);
    } else if (type.name == "CodeableConcept") {
      const Property* codings = value.Find("coding");
      bool member = false;
      for (std::size_t i = 0; codings != nullptr && i < codings->values.size() && !member; ++i) {
        member = CodingIsMember(*value_set, codings->values[i]);
      }
      if (member) return;
      if (codings == nullptr) {
        Report(element, "there is no coding; one is required", path);
      } else {
        Report(element, "none of its codings (" + Describe(codings->values[0]) + (codings->values.size() > 1 ? ", ..." : "") + ") is",
               path);
      }
    }
  }

  // A Coding is a member if its system and code are; a Coding without a code says nothing.
  static bool CodingIsMember(const terminology::ValueSet& value_set, const Node& coding) {
    std::string_view code = coding.TextOf("code");
    if (code.empty()) return false;
    std::string_view system = coding.TextOf("system");
    return system.empty() ? value_set.ContainsCode(code) : value_set.Contains(system, code);
  }

  static std::string Clip(std::string_view text) {
    return std::string(text.substr(0, ElementPath::kMaxNameLength)) + (text.size() > ElementPath::kMaxNameLength ? "..." : "");
  }

  static std::string Describe(const Node& coding) {
    std::string_view system = coding.TextOf("system");
    std::string_view code = coding.TextOf("code");
    return "'" + (system.empty() ? std::string() : Clip(system) + "|") + Clip(code) + "'";
  }

  // `phrase` says what is wrong up to the value set: "'robot' is not", "there is no coding; one is required".
  void Report(const fhir::ElementDefinition& element, const std::string& phrase, const ElementPath& path) {
    std::string message = phrase + " in the value set " + element.value_set + " (required binding of " + element.path + ")";
    issues_.push_back({IssueType::kCodeInvalid, std::move(message), path.Render()});
  }

  const terminology::ValueSets& value_sets_;
  const std::size_t max_issues_;
  std::vector<Issue> issues_;
};

}  // namespace

std::vector<Issue> CheckBindings(const fhir::Resource& resource, const terminology::ValueSets& value_sets,
                                 std::size_t max_issues) {
  BindingChecker checker(value_sets, max_issues);
  checker.Walk(resource.root(), ElementPath{nullptr, resource.type_name()});
  return checker.TakeIssues();
}

}  // namespace ck::validation
