#include "validation/profile_check.h"

#include "fhir/element_path.h"
#include "fhir/json_writer.h"
#include "terminology/ucum.h"
#include "util/text.h"
#include "validation/binding_check.h"
#include "validation/constraint_result.h"

namespace ck::validation {
namespace {

using fhir::ElementPath;
using fhir::JsonKind;
using fhir::Node;
using fhir::Property;

constexpr int kMaxProfileDepth = 6;  // profiles that name profiles that name profiles...
// Element rules applied for one resource at most: a stored profile comes from a client, and one
// that slices by profile, or names profiles that name it, must not make every write that claims it
// take forever.
constexpr std::size_t kMaxRuleApplications = 50'000;

std::string_view WithoutVersion(std::string_view url) { return url.substr(0, url.find('|')); }

std::string_view LastSegment(std::string_view path) { return path.substr(path.rfind('.') + 1); }

// A value as a message shows it: primitives as text, complex values as (clipped) JSON.
std::string Show(const Node& value) {
  std::string text = value.kind == JsonKind::kObject ? fhir::WriteJson(value) : "'" + value.text + "'";
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  return text;
}

// fixed[x]: the same value, property for property.
bool Equal(const Node& a, const Node& b) {
  if (a.kind != JsonKind::kObject || b.kind != JsonKind::kObject) return a.kind == b.kind && a.text == b.text;
  if (a.properties.size() != b.properties.size()) return false;
  for (const Property& property : a.properties) {
    const Property* other = b.Find(property.name);
    if (other == nullptr || other->values.size() != property.values.size()) return false;
    for (std::size_t i = 0; i < property.values.size(); ++i) {
      if (!Equal(property.values[i], other->values[i])) return false;
    }
  }
  return true;
}

// pattern[x]: everything the pattern has, the value has (each pattern repetition matching some
// repetition of the value); the value may have more.
bool MatchesPattern(const Node& value, const Node& pattern) {
  if (pattern.kind != JsonKind::kObject || value.kind != JsonKind::kObject) return value.kind == pattern.kind && value.text == pattern.text;
  for (const Property& wanted : pattern.properties) {
    const Property* have = value.Find(wanted.name);
    if (have == nullptr) return false;
    for (const Node& wanted_value : wanted.values) {
      bool found = false;
      for (const Node& have_value : have->values) found = found || MatchesPattern(have_value, wanted_value);
      if (!found) return false;
    }
  }
  return true;
}

// How a number or quantity compares with a bound (minValue[x], maxValue[x]): -1, 0 or 1;
// nullopt when they cannot be compared (no value, units that do not convert).
std::optional<int> Compare(const Node& value, const Node& bound) {
  auto sign = [](double a, double b) { return a < b ? -1 : a > b ? 1 : 0; };
  if (value.kind == JsonKind::kNumber && bound.kind == JsonKind::kNumber) {
    auto a = fhirpath::ToDouble(value.text);
    auto b = fhirpath::ToDouble(bound.text);
    if (!a || !b) return std::nullopt;
    return sign(*a, *b);
  }
  if (value.kind != JsonKind::kObject || bound.kind != JsonKind::kObject) return std::nullopt;
  auto a = fhirpath::ToDouble(value.TextOf("value"));
  auto b = fhirpath::ToDouble(bound.TextOf("value"));
  if (!a || !b) return std::nullopt;
  std::string_view from = value.TextOf("code");
  std::string_view to = bound.TextOf("code");
  if (from == to) return sign(*a, *b);
  auto from_unit = terminology::ParseUcum(from);
  auto to_unit = terminology::ParseUcum(to);
  if (!from_unit || !to_unit || !terminology::Commensurable(*from_unit, *to_unit)) return std::nullopt;
  return sign(terminology::ConvertUcum(*a, *from_unit, *to_unit), *b);
}

// The child rules of `rule` that a dotted path names ("code.coding.system"), also through the
// slices of elements on the way (a pattern often sits in a slice of code.coding).
std::vector<const ElementRule*> RulesAt(const ElementRule& rule, std::string_view path) {
  std::vector<const ElementRule*> at{&rule};
  if (path == "$this") return at;
  for (std::string_view name : Split(path, '.')) {
    std::vector<const ElementRule*> next;
    for (const ElementRule* parent : at) {
      for (const ElementRule* child : parent->children) {
        bool named = child->name == name ||
                     (child->name.ends_with("[x]") && name.starts_with(std::string_view(child->name).substr(0, child->name.size() - 3)));
        if (!named) continue;
        next.push_back(child);
        next.insert(next.end(), child->slices.begin(), child->slices.end());
      }
    }
    at = std::move(next);
  }
  return at;
}

// The first rule at the path (the element itself, not its slices), or nullptr.
const ElementRule* RuleAt(const ElementRule& rule, std::string_view path) {
  std::vector<const ElementRule*> rules = RulesAt(rule, path);
  return rules.empty() ? nullptr : rules[0];
}

// The values a slice expects at a discriminator's path: the fixed or pattern values of the rules
// at the path, or the part of a pattern further up that the rest of the path selects.
struct Expected {
  std::vector<const Node*> values;
  bool fixed = false;
};

Expected ExpectedAt(const ElementRule& slice, std::string_view path) {
  std::vector<std::string_view> names = path == "$this" ? std::vector<std::string_view>{} : Split(path, '.');
  for (std::size_t keep = names.size() + 1; keep-- > 0;) {
    std::string prefix;
    for (std::size_t i = 0; i < keep; ++i) prefix += (i ? "." : "") + std::string(names[i]);
    Expected expected;
    for (const ElementRule* rule : RulesAt(slice, keep == 0 ? "$this" : prefix)) {
      if (rule->fixed == nullptr && rule->pattern == nullptr) continue;
      expected.values.push_back(rule->fixed != nullptr ? rule->fixed : rule->pattern);
      expected.fixed = rule->fixed != nullptr;
    }
    if (expected.values.empty()) continue;
    for (std::size_t i = keep; i < names.size(); ++i) {
      std::vector<const Node*> next;
      for (const Node* node : expected.values) {
        if (const Property* property = node->Find(names[i]); property != nullptr) {
          for (const Node& value : property->values) next.push_back(&value);
        }
      }
      expected.values = std::move(next);
    }
    return expected;
  }
  return {};
}

}  // namespace

class ProfileCheck::Checker {
 public:
  // The types of the elements above a node, up to its resource (for extension contexts).
  struct Ancestry {
    const fhir::TypeDefinition* type;
    const Ancestry* up;
  };

  // What one resource's check may spend, shared by the checkers it starts.
  struct Budget {
    std::size_t rules_left = kMaxRuleApplications;
    IssueCollector* report_to = nullptr;  // where running out is reported (not a scratch collector)
  };

  Checker(const ProfileCheck& check, IssueCollector& issues, Budget& budget, int depth = 0)
      : check_(check), issues_(issues), budget_(budget), depth_(depth) {}

  // Every node of the tree: extensions against their definitions, nested resources' claims.
  void Walk(const Node& node, const Node& resource, const ElementPath& path, const fhir::ChildSlot* slot,
            bool unknown_profile_is_error, const Ancestry* up = nullptr) {
    const Ancestry here{node.type, up};
    if (issues_.full()) return;
    const bool is_resource = node.type != nullptr && node.type->IsResource();
    const Node& holder = is_resource ? node : resource;
    if (is_resource) CheckClaims(node, path, unknown_profile_is_error);
    for (const Property& property : node.properties) {
      if (property.slot == nullptr) continue;
      for (std::size_t i = 0; i < property.values.size(); ++i) {
        const Node& value = property.values[i];
        if (value.kind != JsonKind::kObject) continue;
        const ElementPath value_path{&path, property.name, property.is_array ? static_cast<std::ptrdiff_t>(i) : -1};
        if (!property.slot->is_primitive_extension && (property.name == "extension" || property.name == "modifierExtension")) {
          CheckExtension(value, holder, value_path, node, slot, property.name == "modifierExtension", &here);
        }
        Walk(value, holder, value_path, property.slot, unknown_profile_is_error, value.type != nullptr && value.type->IsResource() ? nullptr : &here);
      }
    }
  }

  // `resource` against the profile with this canonical; `named` when a caller asked for it.
  void CheckAgainst(const Node& resource, std::string_view canonical, const ElementPath& path, bool unknown_is_error) {
    const ProfileRegistry& profiles = check_.profiles_;
    if (profiles.IsBaseType(canonical)) {
      if (std::string type = profiles.TypeOf(canonical); !IsA(resource.type, type)) {
        Add(IssueSeverity::kError, IssueType::kStructure, "the resource claims " + std::string(canonical) + ", the definition of another type", path);
      }
      return;
    }
    auto profile = profiles.Find(canonical);
    if (profile == nullptr) {
      Add(unknown_is_error ? IssueSeverity::kError : IssueSeverity::kWarning, IssueType::kNotFound,
          "profile " + std::string(canonical) + " is not known here, so the resource was not checked against it", path,
          "profile " + std::string(canonical));
      return;
    }
    if (!IsA(resource.type, profile->type())) {
      Add(IssueSeverity::kError, IssueType::kStructure,
          "profile " + std::string(canonical) + " is for " + profile->type() + ", not " + resource.type->name, path);
      return;
    }
    CheckElement(resource, resource, profile->root(), path, *profile);
  }

 private:
  // Reported under the rule of the profile or extension being applied, unless `rule` names one.
  void Add(IssueSeverity severity, IssueType type, std::string message, const ElementPath& path, std::string rule = "") {
    if (!issues_.Wants(severity)) return;
    if (rule.empty() && applying_ != nullptr) rule = (applying_->is_extension() ? "extension " : "profile ") + applying_->url();
    issues_.Add(severity, type, std::move(message), path.Render(), std::move(rule));
  }

  static bool IsA(const fhir::TypeDefinition* type, std::string_view name) {
    for (; type != nullptr; type = type->base) {
      if (type->name == name) return true;
    }
    return false;
  }

  void CheckClaims(const Node& resource, const ElementPath& path, bool unknown_profile_is_error) {
    const Property* meta = resource.Find("meta");
    const Property* claims = meta == nullptr || meta->values.empty() ? nullptr : meta->values[0].Find("profile");
    for (std::size_t i = 0; claims != nullptr && i < claims->values.size(); ++i) {
      CheckAgainst(resource, claims->values[i].text, path, unknown_profile_is_error);
    }
  }

  // Where an extension may be used, against the element that holds it: its type (and the
  // types it derives from), its element path, or the URL of the extension it is part of.
  static bool AllowedHere(const Profile& definition, const Node& host, const fhir::ChildSlot* host_slot,
                          const fhir::Definitions& definitions, const Ancestry* ancestry) {
    if (definition.contexts().empty()) return true;
    // Contexts the R4 definition of an extension gets wrong: R4 lets structuredefinition-fhir-type
    // stand on ElementDefinition.type.code, while the R4 snapshots themselves (and every IG built
    // on them) put it on ElementDefinition.type, which later versions of the extension allow.
    if (definition.url() == "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type" && host_slot != nullptr &&
        host_slot->element->path == "ElementDefinition.type") {
      return true;
    }
    for (const Profile::Context& context : definition.contexts()) {
      const std::string& where = context.expression;
      if (context.type == "fhirpath") return true;
      if (context.type == "extension") {
        if (host.TextOf("url") == where) return true;
        continue;
      }
      if (where == "Element" || where == "Base") return true;
      // A context R4 does not define (CanonicalResource, from later versions) cannot be judged here.
      if (where.find('.') == std::string::npos && definitions.FindType(where) == nullptr) return true;
      if (host_slot != nullptr && (host_slot->element->path == where || (host_slot->type != nullptr && IsA(host_slot->type, where)))) {
        return true;
      }
      if (IsA(host.type, where)) return true;
      // A data type context (ElementDefinition, Address) also admits the elements inside one, as
      // the reference validator and the published guides built with it have it.
      if (const fhir::TypeDefinition* type = definitions.FindType(where); type != nullptr && !type->IsResource()) {
        for (const Ancestry* at = ancestry; at != nullptr; at = at->up) {
          if (IsA(at->type, where)) return true;
        }
      }
    }
    return false;
  }

  void CheckExtension(const Node& extension, const Node& resource, const ElementPath& path, const Node& host,
                      const fhir::ChildSlot* host_slot, bool modifier, const Ancestry* ancestry) {
    std::string_view url = extension.TextOf("url");
    if (url.find(':') == std::string_view::npos) return;  // a part of a complex extension: its parent's definition checks it
    auto definition = check_.profiles_.Find(url);
    if (definition == nullptr) {
      Add(IssueSeverity::kWarning, IssueType::kExtension,
          std::string(modifier ? "modifier extension " : "extension ") + std::string(url.substr(0, 200)) +
              " is not known here, so its content was not checked" + (modifier ? "; readers that do not know it must not ignore it" : ""),
          path, "extension " + std::string(url.substr(0, 200)));
      return;
    }
    if (!definition->is_extension()) {
      Add(IssueSeverity::kError, IssueType::kExtension, std::string(url) + " is a profile of " + definition->type() + ", not an extension", path);
      return;
    }
    if (!AllowedHere(*definition, host, host_slot, check_.definitions_, ancestry)) {
      std::string allowed;
      for (const Profile::Context& context : definition->contexts()) allowed += (allowed.empty() ? "" : ", ") + context.expression;
      Add(IssueSeverity::kError, IssueType::kExtension,
          "extension " + std::string(url) + " is not allowed here; it may be used on " + allowed, path);
    }
    CheckElement(extension, resource, definition->root(), path, *definition);
  }

  // The profile's invariants on `node`, then each child rule.
  // False once the budget is spent (said once, as an error: the resource was not fully checked).
  bool Spend() {
    if (budget_.rules_left == 0) return false;
    if (--budget_.rules_left == 0) {
      budget_.report_to->Add(IssueSeverity::kError, IssueType::kTooCostly,
                             "checking the profiles took too much work (" + std::to_string(kMaxRuleApplications) +
                                 " rules applied); the profiles involved slice or nest too deeply",
                             "");
      return false;
    }
    return true;
  }

  void CheckElement(const Node& node, const Node& resource, const ElementRule& rule, const ElementPath& path, const Profile& profile) {
    if (issues_.full() || !Spend()) return;
    const Profile* outer = applying_;
    applying_ = &profile;
    CheckRules(node, resource, rule, path, profile);
    applying_ = outer;
  }

  void CheckRules(const Node& node, const Node& resource, const ElementRule& rule, const ElementPath& path, const Profile& profile) {
    for (const ConstraintRule& constraint : rule.constraints) {
      if (!issues_.Wants(constraint.severity)) continue;
      auto result = constraint.expression.EvaluateAt(resource, node, check_.definitions_);
      if (!result || !ConstraintHolds(*result)) {
        Add(constraint.severity, IssueType::kInvariant,
            "constraint " + constraint.key + " of profile " + profile.url() + " is not met: " +
                (result ? constraint.human : "could not be evaluated: " + result.error().message()),
            path);
      }
    }
    if (node.kind != JsonKind::kObject) return;
    for (const ElementRule* child : rule.children) CheckChild(node, resource, *child, path, profile);
  }

  struct Match {
    const Node* value;
    const Property* property;
    std::size_t index;
  };

  static bool Names(const Property& property, const ElementRule& rule) {
    return LastSegment(property.slot->element->path) == rule.name || property.name == rule.name;
  }

  void CheckChild(const Node& parent, const Node& resource, const ElementRule& rule, const ElementPath& path, const Profile& profile) {
    std::vector<Match> matches;
    for (const Property& property : parent.properties) {
      if (property.slot == nullptr || property.slot->is_primitive_extension || !Names(property, rule)) continue;
      for (std::size_t i = 0; i < property.values.size(); ++i) {
        if (property.values[i].kind != JsonKind::kNull) matches.push_back({&property.values[i], &property, i});
      }
    }
    CheckCount(rule, matches.size(), "", path, profile);
    for (const Match& match : matches) CheckValue(match, resource, rule, path, profile);
    if (rule.sliced && !rule.slices.empty()) CheckSlices(matches, resource, rule, path, profile);
  }

  void CheckCount(const ElementRule& rule, std::size_t count, std::string_view slice, const ElementPath& path, const Profile& profile) {
    std::string what = rule.path + (slice.empty() ? "" : " (slice '" + std::string(slice) + "')");
    if (count < rule.min) {
      Add(IssueSeverity::kError, IssueType::kRequired,
          what + ": at least " + std::to_string(rule.min) + " required by profile " + profile.url() + ", found " + std::to_string(count), path);
    }
    if (rule.max != fhir::ElementDefinition::kUnbounded && count > rule.max) {
      Add(IssueSeverity::kError, IssueType::kStructure,
          what + ": at most " + std::to_string(rule.max) + " allowed by profile " + profile.url() + ", found " + std::to_string(count), path);
    }
  }

  ElementPath PathOf(const Match& match, const ElementPath& parent) const {
    return ElementPath{&parent, match.property->name, match.property->is_array ? static_cast<std::ptrdiff_t>(match.index) : -1};
  }

  void CheckValue(const Match& match, const Node& resource, const ElementRule& rule, const ElementPath& parent, const Profile& profile) {
    if (issues_.full()) return;
    const Node& value = *match.value;
    const ElementPath path = PathOf(match, parent);
    const fhir::ElementDefinition& element = *match.property->slot->element;
    const std::string& type = match.property->slot->type->name;
    const TypeRule* type_rule = nullptr;
    for (const TypeRule& candidate : rule.types) {
      if (candidate.code == type) type_rule = &candidate;
    }
    if (element.is_choice && !rule.types.empty() && type_rule == nullptr) {
      std::string allowed;
      for (const TypeRule& candidate : rule.types) allowed += (allowed.empty() ? "" : ", ") + candidate.code;
      Add(IssueSeverity::kError, IssueType::kStructure,
          "type " + type + " is not allowed here by profile " + profile.url() + " (allowed: " + allowed + ")", path);
    }
    if (rule.fixed != nullptr && !Equal(value, *rule.fixed)) {
      Add(IssueSeverity::kError, IssueType::kValue, "the value must be exactly " + Show(*rule.fixed) + " (fixed by profile " + profile.url() + ")", path);
    }
    if (rule.pattern != nullptr && !MatchesPattern(value, *rule.pattern)) {
      Add(IssueSeverity::kError, IssueType::kValue, "the value must match " + Show(*rule.pattern) + " (pattern of profile " + profile.url() + ")", path);
    }
    if (rule.min_value != nullptr && Compare(value, *rule.min_value).value_or(0) < 0) {
      Add(IssueSeverity::kError, IssueType::kValue, "the value is below the minimum " + Show(*rule.min_value) + " of profile " + profile.url(), path);
    }
    if (rule.max_value != nullptr && Compare(value, *rule.max_value).value_or(0) > 0) {
      Add(IssueSeverity::kError, IssueType::kValue, "the value is above the maximum " + Show(*rule.max_value) + " of profile " + profile.url(), path);
    }
    if (rule.binding_strength != fhir::BindingStrength::kNone &&
        (rule.binding_strength != element.binding_strength || WithoutVersion(rule.value_set) != WithoutVersion(element.value_set))) {
      CheckBoundValue(value, type, rule.binding_strength, rule.value_set, rule.path + " in profile " + profile.url(), check_.value_sets_, path,
                      issues_);
    }
    if (type_rule != nullptr && type != "Extension" && !type_rule->profiles.empty()) CheckTypeProfiles(value, resource, *type_rule, path);
    if (type_rule != nullptr && !type_rule->target_profiles.empty()) CheckTarget(value, *type_rule, path, profile);
    CheckElement(value, resource, rule, path, profile);
  }

  // The value conforms to one of the profiles its type names.
  void CheckTypeProfiles(const Node& value, const Node& resource, const TypeRule& type_rule, const ElementPath& path) {
    if (depth_ >= kMaxProfileDepth) return;
    std::vector<std::shared_ptr<const Profile>> known;
    for (const std::string& url : type_rule.profiles) {
      if (check_.profiles_.IsBaseType(url)) return;  // the base type itself: met by being well-formed
      if (auto profile = check_.profiles_.Find(url); profile != nullptr) known.push_back(std::move(profile));
    }
    if (known.empty()) return;
    if (known.size() == 1) {
      Checker(check_, issues_, budget_, depth_ + 1).CheckElement(value, resource, known[0]->root(), path, *known[0]);
      return;
    }
    for (const auto& profile : known) {
      if (Conforms(value, resource, *profile)) return;
    }
    std::string names;
    for (const auto& profile : known) names += (names.empty() ? "" : ", ") + profile->url();
    Add(IssueSeverity::kError, IssueType::kStructure, "the value conforms to none of its allowed profiles (" + names + ")", path);
  }

  bool Conforms(const Node& value, const Node& resource, const Profile& profile) const {
    if (value.type != nullptr && !IsA(value.type, profile.type())) return false;
    if (depth_ >= kMaxProfileDepth) return true;
    IssueCollector scratch({.max_issues = 1});
    Checker(check_, scratch, budget_, depth_ + 1).CheckElement(value, resource, profile.root(), ElementPath{nullptr, ""}, profile);
    return scratch.issues().empty();
  }

  // A reference points at a resource of a type its target profiles allow (by the type the
  // reference names; the target itself is not fetched).
  void CheckTarget(const Node& reference, const TypeRule& type_rule, const ElementPath& path, const Profile& profile) {
    std::string_view target = reference.TextOf("reference");
    if (target.empty() || target.starts_with('#') || target.starts_with("urn:")) return;
    target = target.substr(0, target.find('?'));
    if (std::size_t history = target.find("/_history/"); history != std::string_view::npos) target = target.substr(0, history);
    std::vector<std::string_view> parts = Split(target, '/');
    if (parts.size() < 2) return;
    std::string_view type = parts[parts.size() - 2];
    if (check_.definitions_.FindResourceType(type) == nullptr) return;
    for (const std::string& allowed : type_rule.target_profiles) {
      std::string allowed_type = check_.profiles_.TypeOf(allowed);
      if (allowed_type.empty() || allowed_type == type || allowed_type == "Resource" || allowed_type == "DomainResource") return;
    }
    std::string names;
    for (const std::string& allowed : type_rule.target_profiles) names += (names.empty() ? "" : ", ") + allowed;
    Add(IssueSeverity::kError, IssueType::kStructure,
        "the reference points at a " + std::string(type) + ", but profile " + profile.url() + " allows only " + names, path);
  }

  void CheckSlices(const std::vector<Match>& matches, const Node& resource, const ElementRule& sliced, const ElementPath& parent,
                   const Profile& profile) {
    std::vector<std::size_t> counts(sliced.slices.size(), 0);
    std::size_t last = 0;
    bool unmatched_seen = false;
    for (const Match& match : matches) {
      std::size_t slice = 0;
      while (slice < sliced.slices.size() && !Discriminate(match, resource, *sliced.slices[slice], sliced)) ++slice;
      const ElementPath path = PathOf(match, parent);
      if (slice == sliced.slices.size()) {
        unmatched_seen = true;
        if (sliced.rules == SlicingRules::kClosed) {
          Add(IssueSeverity::kError, IssueType::kStructure,
              "this " + sliced.name + " matches none of the slices of " + sliced.path + " in profile " + profile.url() + " (closed slicing)", path);
        }
        continue;
      }
      if (sliced.ordered && slice < last) {
        Add(IssueSeverity::kError, IssueType::kStructure,
            "slice '" + sliced.slices[slice]->slice_name + "' is out of order (ordered slicing of " + sliced.path + ")", path);
      }
      if (sliced.rules == SlicingRules::kOpenAtEnd && unmatched_seen) {
        Add(IssueSeverity::kError, IssueType::kStructure,
            "slice '" + sliced.slices[slice]->slice_name + "' follows content that fits no slice (slicing of " + sliced.path + " is open at the end only)",
            path);
      }
      last = std::max(last, slice);
      ++counts[slice];
      CheckValue(match, resource, *sliced.slices[slice], parent, profile);
    }
    for (std::size_t slice = 0; slice < sliced.slices.size(); ++slice) {
      CheckCount(*sliced.slices[slice], counts[slice], sliced.slices[slice]->slice_name, parent, profile);
    }
  }

  // The nodes at a discriminator's path from a value.
  std::vector<const Node*> ValuesAt(const Match& match, const Node& resource, const Discriminator& discriminator,
                                    std::vector<std::string_view>* types) const {
    if (discriminator.path == "$this") {
      if (types != nullptr) types->push_back(match.property->slot->type->name);
      return {match.value};
    }
    std::vector<const Node*> out;
    auto result = discriminator.expression->EvaluateAt(resource, *match.value, check_.definitions_);
    if (!result) return out;
    for (const fhirpath::Value& value : *result) {
      if (!value.IsElement() || value.node == nullptr) continue;
      out.push_back(value.node);
      if (types != nullptr && value.type != nullptr) types->push_back(value.type->name);
    }
    return out;
  }

  // Whether a value belongs to a slice: it meets every discriminator of the slicing.
  bool Discriminate(const Match& match, const Node& resource, const ElementRule& slice, const ElementRule& sliced) {
    if (!Spend()) return false;
    for (const Discriminator& discriminator : sliced.discriminators) {
      if (!discriminator.expression) return false;
      std::vector<std::string_view> types;
      std::vector<const Node*> values = ValuesAt(match, resource, discriminator, &types);
      const ElementRule* at = RuleAt(slice, discriminator.path);
      switch (discriminator.kind) {
        case DiscriminatorKind::kValue:
        case DiscriminatorKind::kPattern: {
          Expected expected = ExpectedAt(slice, discriminator.path);
          if (expected.values.empty() && discriminator.path == "url") {
            // An extension slice: the url is its type's profile.
            bool found = false;
            for (const TypeRule& type : slice.types) {
              for (const std::string& url : type.profiles) found = found || match.value->TextOf("url") == WithoutVersion(url);
            }
            if (!found) return false;
            break;
          }
          if (expected.values.empty()) {
            if (at == nullptr || at->binding_strength != fhir::BindingStrength::kRequired) return false;
            const terminology::ValueSet* value_set = check_.value_sets_.Find(at->value_set);
            if (value_set == nullptr || !value_set->expanded()) return false;
            bool member = false;
            for (const Node* value : values) member = member || value_set->ContainsCode(value->kind == JsonKind::kObject ? value->TextOf("code") : value->text);
            if (!member) return false;
            break;
          }
          bool found = false;
          for (const Node* value : values) {
            for (const Node* want : expected.values) found = found || (expected.fixed ? Equal(*value, *want) : MatchesPattern(*value, *want));
          }
          if (!found) return false;
          break;
        }
        case DiscriminatorKind::kType: {
          if (at == nullptr || at->types.empty()) return false;
          bool found = false;
          for (std::string_view type : types) {
            for (const TypeRule& allowed : at->types) found = found || allowed.code == type;
          }
          if (!found) return false;
          break;
        }
        case DiscriminatorKind::kExists: {
          if (at == nullptr) return false;
          if (at->min >= 1 && values.empty()) return false;
          if (at->max == 0 && !values.empty()) return false;
          break;
        }
        case DiscriminatorKind::kProfile: {
          if (at == nullptr || values.empty()) return false;
          bool found = false;
          for (const TypeRule& type : at->types) {
            for (const std::string& url : type.profiles) {
              auto profile = check_.profiles_.Find(url);
              for (const Node* value : values) found = found || (profile != nullptr && Conforms(*value, resource, *profile));
            }
          }
          if (!found) return false;
          break;
        }
      }
    }
    return true;
  }

  const ProfileCheck& check_;
  IssueCollector& issues_;
  Budget& budget_;
  const int depth_;
  const Profile* applying_ = nullptr;  // the profile or extension definition whose rules are being applied
};

void ProfileCheck::Check(const fhir::Resource& resource, const std::vector<std::string>& named_profiles, bool unknown_profile_is_error,
                         IssueCollector& issues) const {
  Checker::Budget budget{.report_to = &issues};
  Checker checker(*this, issues, budget);
  const ElementPath root{nullptr, resource.type_name()};
  for (const std::string& profile : named_profiles) checker.CheckAgainst(resource.root(), profile, root, true);
  checker.Walk(resource.root(), resource.root(), root, nullptr, unknown_profile_is_error);
}

}  // namespace ck::validation
