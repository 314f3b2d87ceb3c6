#include "validation/invariant_check.h"

#include "fhir/element_path.h"
#include "fhir/narrative_xhtml.h"
#include "util/text.h"
#include "validation/constraint_result.h"

namespace ck {
extern const char kInvariantExclusions[];
}

namespace ck::validation {
namespace {

using fhir::ElementPath;
using fhir::JsonKind;
using fhir::Node;
using fhir::Property;

std::unordered_map<std::string, std::string> ParseExclusions() {
  std::unordered_map<std::string, std::string> out;
  for (std::string_view line : Split(kInvariantExclusions, '\n')) {
    if (line.empty() || line.starts_with('#')) continue;
    std::size_t tab = line.find('\t');
    out.emplace(std::string(line.substr(0, tab)), tab == std::string_view::npos ? "" : std::string(line.substr(tab + 1)));
  }
  return out;
}

// Invariants checked without FHIRPath (their expression is only htmlChecks(), or they apply to
// every element): ele-1 and txt-2 here, txt-1 by the JSON reader's narrative rules
// (fhir/narrative_xhtml.h), which refuse scripts under every validation policy.
bool CheckedNatively(std::string_view key) { return key == "ele-1" || key == "txt-1" || key == "txt-2"; }

}  // namespace

class InvariantCheck::Walker {
 public:
  Walker(const InvariantCheck& check, IssueCollector& issues) : check_(check), issues_(issues) {}

  // `node` is an object (a resource, a complex element, a backbone element or a primitive's
  // extension holder); `resource` is the resource that holds it (%resource), `root` the resource
  // that holds that one if it is contained (%rootResource).
  void Walk(const Node& node, const Node& resource, const Node& root, const ElementPath& path, const fhir::ElementDefinition* element) {
    if (issues_.full()) return;
    const bool is_resource = node.type != nullptr && node.type->IsResource();
    const Node& holder = is_resource ? node : resource;
    const Node& holder_root = root;
    root_ = &holder_root;
    // (A primitive's extension holder, walked with no element, belongs to a primitive that may
    // have its value: ele-1 is not its to break.)
    if (&holder != &node && element != nullptr && !HasContent(node)) {
      Report(IssueSeverity::kError, "ele-1", "All FHIR elements must have a @value or children", path);
    }
    for (const fhir::TypeDefinition* type = node.type; type != nullptr; type = type->base) {
      Evaluate(check_.by_type_, type, holder, node, path);
    }
    if (element != nullptr && element->inline_children != nullptr) {
      Evaluate(check_.by_backbone_, element->inline_children, holder, node, path);
    }
    if (element != nullptr) Evaluate(check_.by_element_, element, holder, node, path);
    for (const Property& property : node.properties) {
      if (property.slot == nullptr || property.slot->is_primitive_extension) continue;
      for (std::size_t i = 0; i < property.values.size(); ++i) {
        const Node& value = property.values[i];
        const ElementPath value_path{&path, property.name, property.is_array ? static_cast<std::ptrdiff_t>(i) : -1};
        if (value.kind == JsonKind::kObject) {
          // A contained resource's %rootResource is its container; any other resource is its own.
          const bool child_is_resource = value.type != nullptr && value.type->IsResource();
          const Node& child_root = !child_is_resource ? holder_root : property.name == "contained" ? holder : value;
          Walk(value, holder, child_root, value_path, property.slot->element);
          root_ = &holder_root;
        } else if (value.kind != JsonKind::kNull) {
          Evaluate(check_.by_element_, property.slot->element, holder, value, value_path);  // a primitive element
          if (property.slot->element == check_.narrative_div_ && check_.txt2_ != nullptr) CheckNarrativeContent(value, value_path);
        }
      }
    }
    // A primitive's extensions ("_birthDate": {"extension": [...]}) hold Extensions to check.
    for (const Property& property : node.properties) {
      if (property.slot == nullptr || !property.slot->is_primitive_extension) continue;
      for (std::size_t i = 0; i < property.values.size(); ++i) {
        if (property.values[i].kind != JsonKind::kObject) continue;
        const ElementPath value_path{&path, property.name, property.is_array ? static_cast<std::ptrdiff_t>(i) : -1};
        Walk(property.values[i], holder, holder_root, value_path, nullptr);
      }
    }
  }

 private:
  // ele-1: something besides an id (JSON has no empty objects, so only {"id": ...} can fail).
  static bool HasContent(const Node& node) {
    for (const Property& property : node.properties) {
      if (property.name != "id") return true;
    }
    return false;
  }

  // txt-2 (the rest of the narrative rules were met when the resource was read).
  void CheckNarrativeContent(const Node& div, const ElementPath& path) {
    if (fhir::CheckNarrativeXhtml(div.text, fhir::NarrativeRules::kAll)) Report(IssueSeverity::kError, "txt-2", check_.txt2_->human, path);
  }

  template <typename Key>
  void Evaluate(const std::unordered_map<Key, std::vector<Compiled>>& table, Key key, const Node& holder, const Node& node,
                const ElementPath& path) {
    auto it = table.find(key);
    if (it == table.end()) return;
    for (const Compiled& invariant : it->second) {
      if (!issues_.Wants(invariant.severity)) continue;
      auto result = invariant.expression.EvaluateAt(holder, node, check_.definitions_, root_);
      if (!result) {
        Report(invariant.severity, invariant.definition->key, "could not be evaluated: " + result.error().message(), path);
      } else if (!ConstraintHolds(*result)) {
        Report(invariant.severity, invariant.definition->key, invariant.definition->human, path);
      }
    }
  }

  void Report(IssueSeverity severity, const std::string& key, const std::string& text, const ElementPath& path) {
    if (!issues_.Wants(severity)) return;
    issues_.Add(severity, IssueType::kInvariant, "constraint " + key + " is not met: " + text, path.Render(), "constraint " + key);
  }

  const InvariantCheck& check_;
  IssueCollector& issues_;
  const Node* root_ = nullptr;  // %rootResource of the node being checked
};

InvariantCheck::InvariantCheck(const fhir::Definitions& definitions)
    : definitions_(definitions), narrative_div_(definitions.FindElement("Narrative.div")), exclusions_(ParseExclusions()) {
  for (const fhir::ConstraintDefinition& constraint : definitions.Constraints()) {
    if (constraint.key == "txt-2") txt2_ = &constraint;
    if (CheckedNatively(constraint.key) || exclusions_.contains(constraint.key)) continue;
    const IssueSeverity severity = constraint.severity == "error" ? IssueSeverity::kError : IssueSeverity::kWarning;
    if (constraint.path.find('.') == std::string::npos) {
      const fhir::TypeDefinition* type = definitions.FindType(constraint.path);
      if (type == nullptr || type->IsPrimitive()) {
        failed_to_compile_.push_back(constraint.key + ": no complex type or resource " + constraint.path);
        continue;
      }
      auto expression = fhirpath::Expression::Compile(constraint.expression, definitions, *type);
      if (!expression) {
        failed_to_compile_.push_back(constraint.key + ": " + expression.error().message());
        continue;
      }
      by_type_[type].push_back({&constraint, severity, std::move(*expression)});
    } else {
      const fhir::ElementDefinition* element = definitions.FindElement(constraint.path);
      if (element == nullptr) {
        failed_to_compile_.push_back(constraint.key + ": no element " + constraint.path);
        continue;
      }
      // Restated on an element of a type that has it already (ext-1 on Extension.extension).
      if (element->inline_children == nullptr && element->types.size() == 1 && HasKey(element->types[0], constraint.key)) continue;
      auto expression = fhirpath::Expression::Compile(constraint.expression);
      if (!expression) {
        failed_to_compile_.push_back(constraint.key + ": " + expression.error().message());
        continue;
      }
      // Keyed by the backbone's structure, which a content reference shares; otherwise by element.
      if (element->inline_children != nullptr) {
        by_backbone_[element->inline_children].push_back({&constraint, severity, std::move(*expression)});
      } else {
        by_element_[element].push_back({&constraint, severity, std::move(*expression)});
      }
    }
    ++compiled_;
  }
}

bool InvariantCheck::HasKey(const fhir::TypeDefinition* type, std::string_view key) const {
  for (; type != nullptr; type = type->base) {
    auto it = by_type_.find(type);
    if (it == by_type_.end()) continue;
    for (const Compiled& compiled : it->second) {
      if (compiled.definition->key == key) return true;
    }
  }
  return false;
}

const InvariantCheck& InvariantCheck::R4() {
  static const InvariantCheck* const check = new InvariantCheck(fhir::Definitions::R4());
  return *check;
}

void InvariantCheck::Check(const fhir::Resource& resource, IssueCollector& issues) const {
  Walker walker(*this, issues);
  walker.Walk(resource.root(), resource.root(), resource.root(), ElementPath{nullptr, resource.type_name()}, nullptr);
}

}  // namespace ck::validation
