#include "fhir/resource.h"

#include <algorithm>

namespace ck::fhir {
namespace {

Node StringNode(std::string_view text, JsonKind kind = JsonKind::kString) {
  Node node;
  node.kind = kind;
  node.text = text;
  return node;
}

// Replaces the value of property `name` of `object`, or inserts it at `position`.
Node& SetSingle(Node& object, const Structure& structure, std::string_view name, Node value,
                std::size_t position) {
  const ChildSlot* slot = structure.Find(name);
  value.type = slot != nullptr ? slot->type : nullptr;
  if (Property* existing = object.Find(name)) {
    existing->values.assign(1, std::move(value));
    existing->is_array = false;
    return existing->values[0];
  }
  Property property{std::string(name), false, slot, {}};
  property.values.push_back(std::move(value));
  position = std::min(position, object.properties.size());
  auto it = object.properties.insert(object.properties.begin() + static_cast<std::ptrdiff_t>(position),
                                     std::move(property));
  return it->values[0];
}

std::size_t AfterProperty(const Node& object, std::string_view name) {
  for (std::size_t i = 0; i < object.properties.size(); ++i) {
    if (object.properties[i].name == name) return i + 1;
  }
  return 0;
}

}  // namespace

const Property* Node::Find(std::string_view name) const {
  for (const Property& p : properties) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

Property* Node::Find(std::string_view name) {
  return const_cast<Property*>(static_cast<const Node*>(this)->Find(name));
}

std::string_view Node::TextOf(std::string_view name) const {
  const Property* p = Find(name);
  if (p == nullptr || p->values.empty()) return {};
  const Node& v = p->values[0];
  return v.kind == JsonKind::kString || v.kind == JsonKind::kNumber ? std::string_view(v.text) : std::string_view();
}

void Resource::SetId(std::string_view id) {
  if (id.empty()) {
    std::erase_if(root_.properties, [](const Property& p) { return p.name == "id" || p.name == "_id"; });
    return;
  }
  SetSingle(root_, root_.type->structure, "id", StringNode(id), AfterProperty(root_, "resourceType"));
}

void Resource::SetVersionMeta(std::string_view version_id, std::string_view last_updated) {
  const Structure& structure = root_.type->structure;
  Node* meta = nullptr;
  if (Property* existing = root_.Find("meta")) {
    meta = &existing->values[0];
  } else {
    Node empty;
    meta = &SetSingle(root_, structure, "meta", std::move(empty), AfterProperty(root_, "id"));
  }
  const Structure& meta_structure = meta->type->structure;
  std::erase_if(meta->properties, [](const Property& p) { return p.name == "_versionId" || p.name == "_lastUpdated"; });
  SetSingle(*meta, meta_structure, "versionId", StringNode(version_id), 0);
  SetSingle(*meta, meta_structure, "lastUpdated", StringNode(last_updated), 1);
}

}  // namespace ck::fhir
