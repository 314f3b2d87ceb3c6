#include "fhir/resource_subset.h"

#include <algorithm>

#include "fhir/definitions.h"
#include "fhir/json_reader.h"
#include "fhir/json_writer.h"

namespace ck::fhir {
namespace {

constexpr std::string_view kSubsettedSystem = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

Node Text(std::string_view text) {
  Node node;
  node.kind = JsonKind::kString;
  node.text = text;
  return node;
}

Property Member(std::string name, Node value, bool is_array = false) {
  Property property{std::move(name), is_array, nullptr, {}};
  property.values.push_back(std::move(value));
  return property;
}

// meta.tag gains SUBSETTED (tag is meta's last element, so it goes last); meta is made, after
// id, if the resource has none.
void TagSubsetted(Node& root) {
  Property* meta = root.Find("meta");
  if (meta == nullptr) {
    auto after_id = std::find_if(root.properties.begin(), root.properties.end(), [](const Property& p) { return p.name == "id"; });
    auto at = after_id == root.properties.end() ? root.properties.begin() + (root.properties.empty() ? 0 : 1) : after_id + 1;
    Node empty;
    meta = &*root.properties.insert(at, Member("meta", std::move(empty)));
  }
  Node tag;
  tag.properties.push_back(Member("system", Text(kSubsettedSystem)));
  tag.properties.push_back(Member("code", Text("SUBSETTED")));
  Node& meta_node = meta->values[0];
  Property* tags = meta_node.Find("tag");
  if (tags == nullptr) {
    meta_node.properties.push_back(Member("tag", std::move(tag), true));
  } else {
    tags->values.push_back(std::move(tag));
  }
}

const ElementDefinition* ElementOf(const Property& property) {
  return property.slot != nullptr ? property.slot->element : nullptr;
}

// Keeps the members of `node` that `keep` accepts (resourceType always).
template <typename Keep>
void KeepMembers(Node& node, Keep keep) {
  std::erase_if(node.properties, [&](Property& property) {
    const ElementDefinition* element = ElementOf(property);
    return element != nullptr && !keep(*element, property);
  });
}

// The summary elements of `node`, and of the backbone elements it keeps, recursively.
void KeepSummary(Node& node) {
  KeepMembers(node, [](const ElementDefinition& element, Property& property) {
    if (!element.is_summary) return false;
    if (element.inline_children != nullptr) {
      for (Node& value : property.values) KeepSummary(value);
    }
    return true;
  });
}

bool IsMetadata(const ElementDefinition& element) { return element.name == "id" || element.name == "meta"; }

}  // namespace

void ApplySubset(Resource& resource, const Subset& subset) {
  Node& root = resource.root();
  switch (subset.mode) {
    case Subset::Mode::kAll:
      return;
    case Subset::Mode::kSummary:
      KeepSummary(root);
      break;
    case Subset::Mode::kText:
      KeepMembers(root, [](const ElementDefinition& element, const Property&) {
        return IsMetadata(element) || element.name == "text" || element.min > 0;
      });
      break;
    case Subset::Mode::kData:
      KeepMembers(root, [](const ElementDefinition& element, const Property&) { return element.name != "text"; });
      break;
    case Subset::Mode::kElements:
      KeepMembers(root, [&](const ElementDefinition& element, const Property&) {
        return IsMetadata(element) || element.min > 0 ||
               std::find(subset.elements.begin(), subset.elements.end(), element.name) != subset.elements.end();
      });
      break;
  }
  TagSubsetted(root);
}

std::optional<Subset::Mode> SummaryMode(std::string_view value) {
  if (value == "true") return Subset::Mode::kSummary;
  if (value == "text") return Subset::Mode::kText;
  if (value == "data") return Subset::Mode::kData;
  if (value == "false") return Subset::Mode::kAll;
  return std::nullopt;
}

std::optional<std::vector<std::string>> ElementNames(std::string_view value) {
  std::vector<std::string> names;
  while (true) {
    const std::size_t comma = std::min(value.find(','), value.size());
    std::string_view name = value.substr(0, comma);
    name.remove_prefix(std::min(name.find_first_not_of(' '), name.size()));
    name.remove_suffix(name.size() - std::min(name.find_last_not_of(' ') + 1, name.size()));
    if (name.empty()) return std::nullopt;
    names.emplace_back(name);
    if (comma == value.size()) return names;
    value.remove_prefix(comma + 1);
  }
}

std::string SubsetJson(const std::string& json, const Subset& subset) {
  if (subset.mode == Subset::Mode::kAll) return json;
  auto resource = ReadResource(json, Definitions::R4());
  if (!resource) return json;
  ApplySubset(*resource, subset);
  return WriteJson(resource->root());
}

}  // namespace ck::fhir
