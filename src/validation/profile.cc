#include "validation/profile.h"

#include <charconv>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "util/text.h"

namespace ck::validation {
namespace {

using fhir::Node;
using fhir::Property;

constexpr std::string_view kCoreProfilePrefix = "http://hl7.org/fhir/StructureDefinition/";

// One element of the snapshot being built: its StructureDefinition element nodes, the
// differential's first and its base's after, so a field comes from the first layer that has it.
struct Layers {
  std::string id;
  std::vector<const Node*> nodes;

  const Property* Get(std::string_view name) const {
    for (const Node* node : nodes) {
      if (const Property* property = node->Find(name); property != nullptr) return property;
    }
    return nullptr;
  }
  std::string_view Text(std::string_view name) const {
    const Property* property = Get(name);
    return property == nullptr || property->values.empty() ? std::string_view() : std::string_view(property->values[0].text);
  }
  // The value of a fixed[x] or pattern[x] element from the first layer that has one.
  const Node* Prefixed(std::string_view prefix) const {
    for (const Node* node : nodes) {
      for (const Property& property : node->properties) {
        if (property.name.starts_with(prefix) && property.name.size() > prefix.size() && !property.values.empty()) {
          return &property.values[0];
        }
      }
    }
    return nullptr;
  }
};

std::vector<std::string> Strings(const Node& node, std::string_view name) {
  std::vector<std::string> out;
  if (const Property* property = node.Find(name); property != nullptr) {
    for (const Node& value : property->values) out.push_back(value.text);
  }
  return out;
}

std::optional<std::uint32_t> ParseCount(std::string_view text) {
  if (text == "*") return fhir::ElementDefinition::kUnbounded;
  std::uint32_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

fhir::BindingStrength ParseStrength(std::string_view strength) {
  if (strength == "required") return fhir::BindingStrength::kRequired;
  if (strength == "extensible") return fhir::BindingStrength::kExtensible;
  if (strength == "preferred") return fhir::BindingStrength::kPreferred;
  return fhir::BindingStrength::kNone;
}

std::optional<DiscriminatorKind> ParseDiscriminator(std::string_view kind) {
  if (kind == "value") return DiscriminatorKind::kValue;
  if (kind == "pattern") return DiscriminatorKind::kPattern;
  if (kind == "type") return DiscriminatorKind::kType;
  if (kind == "profile") return DiscriminatorKind::kProfile;
  if (kind == "exists") return DiscriminatorKind::kExists;
  return std::nullopt;
}

// "Observation.component:systolic.code" -> "Observation.component.code".
std::string PathOfId(std::string_view id) {
  std::string out;
  for (std::string_view segment : Split(id, '.')) {
    if (!out.empty()) out += '.';
    out += segment.substr(0, segment.find(':'));
  }
  return out;
}

std::unordered_set<std::string> CoreConstraintKeys(const fhir::Definitions& definitions) {
  std::unordered_set<std::string> keys;
  for (const fhir::ConstraintDefinition& constraint : definitions.Constraints()) keys.insert(constraint.key);
  return keys;
}

Status Malformed(const std::string& url, const std::string& what) {
  return Status::Unprocessable("StructureDefinition " + url + ": " + what)
      .WithIssues({{IssueType::kStructure, "StructureDefinition " + url + ": " + what, "StructureDefinition"}});
}

}  // namespace

Result<std::shared_ptr<const Profile>> Profile::Build(fhir::Node structure_definition, const fhir::Definitions& definitions,
                                                      const Lookup& lookup) {
  static const std::unordered_set<std::string> core_keys = CoreConstraintKeys(definitions);
  auto profile = std::shared_ptr<Profile>(new Profile());
  profile->source_ = std::make_unique<Node>(std::move(structure_definition));
  const Node& sd = *profile->source_;
  profile->url_ = std::string(sd.TextOf("url"));
  profile->version_ = std::string(sd.TextOf("version"));
  profile->name_ = std::string(sd.TextOf("name"));
  profile->type_ = std::string(sd.TextOf("type"));
  if (profile->url_.empty()) return Err(Malformed("(no url)", "a profile needs a url"));
  if (profile->type_.empty()) return Err(Malformed(profile->url_, "a profile needs the type it constrains"));
  if (const Property* contexts = sd.Find("context"); contexts != nullptr) {
    for (const Node& context : contexts->values) {
      profile->contexts_.push_back({std::string(context.TextOf("type")), std::string(context.TextOf("expression"))});
    }
  }

  // The elements, in order, each with its layers.
  std::vector<Layers> elements;
  std::unordered_map<std::string, std::size_t> by_id;
  auto add_layer = [&](const Node& element, bool on_top) -> Status {
    std::string id(element.TextOf("id"));
    if (id.empty()) id = std::string(element.TextOf("path"));
    if (id.empty()) return Malformed(profile->url_, "an element has neither id nor path");
    auto [it, inserted] = by_id.emplace(id, elements.size());
    if (inserted) elements.push_back({id, {}});
    auto& nodes = elements[it->second].nodes;
    nodes.insert(on_top ? nodes.begin() : nodes.end(), &element);
    return Status::Ok();
  };
  const Property* snapshot = sd.Find("snapshot");
  const Property* snapshot_elements = snapshot != nullptr && !snapshot->values.empty() ? snapshot->values[0].Find("element") : nullptr;
  if (snapshot_elements != nullptr) {
    for (const Node& element : snapshot_elements->values) CK_RETURN_IF_ERROR(add_layer(element, false));
  } else {
    const Property* differential = sd.Find("differential");
    const Property* diff_elements =
        differential != nullptr && !differential->values.empty() ? differential->values[0].Find("element") : nullptr;
    if (diff_elements == nullptr) return Err(Malformed(profile->url_, "neither a snapshot nor a differential"));
    profile->generated_snapshot_ = true;
    std::string base_url(sd.TextOf("baseDefinition"));
    if (!base_url.empty() && !(base_url.starts_with(kCoreProfilePrefix) &&
                               definitions.FindType(std::string_view(base_url).substr(kCoreProfilePrefix.size())) != nullptr)) {
      profile->base_ = lookup ? lookup(base_url) : nullptr;
      if (profile->base_ == nullptr) return Err(Malformed(profile->url_, "its base " + base_url + " is not known here"));
      for (const auto& [id, nodes] : profile->base_->layers_) {
        for (const Node* node : nodes) CK_RETURN_IF_ERROR(add_layer(*node, false));
      }
    }
    for (const Node& element : diff_elements->values) CK_RETURN_IF_ERROR(add_layer(element, true));
  }

  // One rule per element.
  std::unordered_map<std::string, ElementRule*> rules;
  for (const Layers& element : elements) {
    ElementRule& rule = profile->rules_.emplace_back();
    rule.id = element.id;
    rule.path = element.Text("path").empty() ? PathOfId(element.id) : std::string(element.Text("path"));
    rule.name = rule.path.substr(rule.path.rfind('.') + 1);
    rule.slice_name = std::string(element.Text("sliceName"));
    const fhir::ElementDefinition* core = profile->generated_snapshot_ ? definitions.FindElement(rule.path) : nullptr;
    if (std::string_view min = element.Text("min"); !min.empty()) {
      auto count = ParseCount(min);
      if (!count || *count == fhir::ElementDefinition::kUnbounded) return Err(Malformed(profile->url_, rule.id + ": bad min"));
      rule.min = *count;
    } else if (core != nullptr) {
      rule.min = core->min;
    }
    if (std::string_view max = element.Text("max"); !max.empty()) {
      auto count = ParseCount(max);
      if (!count) return Err(Malformed(profile->url_, rule.id + ": bad max"));
      rule.max = *count;
    } else if (core != nullptr) {
      rule.max = core->max;
    }
    if (const Property* types = element.Get("type"); types != nullptr) {
      for (const Node& type : types->values) {
        rule.types.push_back({std::string(type.TextOf("code")), Strings(type, "profile"), Strings(type, "targetProfile")});
      }
    } else if (core != nullptr) {
      for (const fhir::TypeDefinition* type : core->types) rule.types.push_back({type->name, {}, {}});
    }
    rule.fixed = element.Prefixed("fixed");
    rule.pattern = element.Prefixed("pattern");
    rule.min_value = element.Prefixed("minValue");
    rule.max_value = element.Prefixed("maxValue");
    if (const Property* binding = element.Get("binding"); binding != nullptr && !binding->values.empty()) {
      rule.binding_strength = ParseStrength(binding->values[0].TextOf("strength"));
      rule.value_set = std::string(binding->values[0].TextOf("valueSet"));
      if (rule.value_set.empty()) rule.binding_strength = fhir::BindingStrength::kNone;
    }
    std::unordered_set<std::string> seen_keys;
    for (const Node* layer : element.nodes) {
      const Property* constraints = layer->Find("constraint");
      for (std::size_t i = 0; constraints != nullptr && i < constraints->values.size(); ++i) {
        const Node& constraint = constraints->values[i];
        std::string key(constraint.TextOf("key"));
        std::string_view text = constraint.TextOf("expression");
        if (core_keys.contains(key) || text.empty() || !seen_keys.insert(key).second) continue;
        auto expression = fhirpath::Expression::Compile(text);
        if (!expression) return Err(Malformed(profile->url_, "constraint " + key + ": " + expression.error().message()));
        IssueSeverity severity = constraint.TextOf("severity") == "warning" ? IssueSeverity::kWarning : IssueSeverity::kError;
        rule.constraints.push_back({key, severity, std::string(constraint.TextOf("human")), std::move(*expression)});
      }
    }
    if (const Property* slicing = element.Get("slicing"); slicing != nullptr && !slicing->values.empty()) {
      const Node& definition = slicing->values[0];
      rule.sliced = true;
      const Property* ordered = definition.Find("ordered");
      rule.ordered = ordered != nullptr && !ordered->values.empty() && ordered->values[0].text == "true";
      std::string_view rules_text = definition.TextOf("rules");
      rule.rules = rules_text == "closed" ? SlicingRules::kClosed : rules_text == "openAtEnd" ? SlicingRules::kOpenAtEnd : SlicingRules::kOpen;
      if (const Property* discriminators = definition.Find("discriminator"); discriminators != nullptr) {
        for (const Node& discriminator : discriminators->values) {
          auto kind = ParseDiscriminator(discriminator.TextOf("type"));
          if (!kind) return Err(Malformed(profile->url_, rule.id + ": unknown discriminator type"));
          std::string path(discriminator.TextOf("path"));
          std::optional<fhirpath::Expression> expression;
          if (auto compiled = fhirpath::Expression::Compile(path); compiled) expression = std::move(*compiled);
          rule.discriminators.push_back({*kind, std::move(path), std::move(expression)});
        }
      }
    }
    rules.emplace(rule.id, &rule);
  }
  profile->layers_.reserve(elements.size());
  for (Layers& element : elements) profile->layers_.emplace_back(std::move(element.id), std::move(element.nodes));

  // The tree: a slice hangs under the element it slices, any other element under its parent; a
  // parent the differential does not list is added as an empty rule.
  std::function<ElementRule*(const std::string&)> rule_for = [&](const std::string& id) -> ElementRule* {
    if (auto it = rules.find(id); it != rules.end()) return it->second;
    ElementRule& placeholder = profile->rules_.emplace_back();
    placeholder.id = id;
    placeholder.path = PathOfId(id);
    placeholder.name = placeholder.path.substr(placeholder.path.rfind('.') + 1);
    rules.emplace(id, &placeholder);
    std::size_t dot = id.rfind('.');
    if (dot != std::string::npos) rule_for(id.substr(0, dot))->children.push_back(&placeholder);
    return &placeholder;
  };
  const std::size_t listed = profile->rules_.size();
  for (std::size_t i = 0; i < listed; ++i) {
    ElementRule& rule = profile->rules_[i];
    std::size_t dot = rule.id.rfind('.');
    std::size_t colon = rule.id.rfind(':');
    if (colon != std::string::npos && (dot == std::string::npos || colon > dot)) {
      std::size_t slash = rule.id.rfind('/');
      std::string sliced = rule.id.substr(0, slash != std::string::npos && slash > colon ? slash : colon);
      rule_for(sliced)->slices.push_back(&rule);
    } else if (dot != std::string::npos) {
      rule_for(rule.id.substr(0, dot))->children.push_back(&rule);
    }
  }
  profile->root_ = rule_for(profile->type_);
  return std::shared_ptr<const Profile>(std::move(profile));
}

}  // namespace ck::validation
