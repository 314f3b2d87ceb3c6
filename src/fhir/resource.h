#pragma once
// The typed resource tree. A Node is one JSON value; an object's members are Properties in source
// order (so serialization reproduces the input's order). After binding (fhir/json_reader.h) every
// Property knows the element it satisfies (its ChildSlot: element definition + the FHIR type
// chosen for a choice element) and every Node its FHIR type. Primitive values keep their exact
// lexical form in `text` (decimals stay "1.50"); a primitive's extensions live in the sibling
// "_name" property, as in FHIR JSON.
// Thread safety: plain values; no internal synchronization.

#include <string>
#include <string_view>
#include <vector>

#include "fhir/definitions.h"

namespace ck::fhir {

enum class JsonKind : std::uint8_t { kObject, kString, kNumber, kBoolean, kNull };

struct Property;

struct Node {
  JsonKind kind = JsonKind::kObject;
  const TypeDefinition* type = nullptr;  // set by binding; a resource node has its resource type
  std::string text;                      // string content, number source text, "true"/"false"
  std::vector<Property> properties;      // object members, in source order

  const Property* Find(std::string_view name) const;
  Property* Find(std::string_view name);
  // The first value of property `name` if it is a string or number; empty otherwise.
  std::string_view TextOf(std::string_view name) const;
};

struct Property {
  std::string name;
  bool is_array = false;
  const ChildSlot* slot = nullptr;  // set by binding; nullptr for "resourceType"
  std::vector<Node> values;
};

// A bound resource: the root node of a resource tree.
class Resource {
 public:
  Resource() = default;
  explicit Resource(Node root) : root_(std::move(root)) {}

  const TypeDefinition& type() const { return *root_.type; }
  const std::string& type_name() const { return root_.type->name; }
  const Node& root() const { return root_; }
  Node& root() { return root_; }

  // The resource's id, or empty if it has none.
  std::string_view id() const { return root_.TextOf("id"); }
  // Sets or removes (empty id) the id, placed after resourceType.
  void SetId(std::string_view id);
  // Sets meta.versionId and meta.lastUpdated, keeping any other meta content (tags, profiles).
  void SetVersionMeta(std::string_view version_id, std::string_view last_updated);

 private:
  Node root_;
};

}  // namespace ck::fhir
