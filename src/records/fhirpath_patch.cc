#include "records/fhirpath_patch.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>

#include "fhir/json_reader.h"
#include "fhirpath/expression.h"

namespace ck::records {
namespace {

using fhir::JsonKind;
using fhir::Node;
using fhir::Property;

// More operations than any real patch needs; each one re-reads the resource, so the work stays
// in proportion to the resource times this.
constexpr std::size_t kMaxOperations = 1000;

// An operation's value: a `value[x]` (with its `_value[x]` extension part), a nested resource,
// or `part`s that build an element of the target's type.
struct PatchValue {
  std::string suffix;              // the type of value[x] ("Date", "HumanName"); empty otherwise
  const Node* node = nullptr;      // value[x] or resource
  const Node* extension = nullptr; // _value[x]
  const Node* parts = nullptr;     // the part holding sub-parts
};

struct Operation {
  std::string type;
  std::string path;
  std::string name;
  std::optional<PatchValue> value;
  std::optional<std::size_t> index;
  std::optional<std::size_t> source;
  std::optional<std::size_t> destination;
};

// Where a node sits in its parent: the parent, the property's name and the index.
struct Place {
  Node* parent = nullptr;
  std::string name;
  std::size_t index = 0;
};

Status Unprocessable(std::string message) { return Status::Unprocessable(std::move(message)); }

PatchValue ValueOf(const Node& part) {
  PatchValue value;
  for (const Property& property : part.properties) {
    if (property.name == "part") {
      value.parts = &part;
    } else if (property.name == "resource") {
      value.node = &property.values[0];
    } else if (property.name.starts_with("value")) {
      value.suffix = property.name.substr(5);
      value.node = &property.values[0];
      if (const Property* extension = part.Find("_" + property.name)) value.extension = &extension->values[0];
    }
  }
  return value;
}

Result<std::size_t> Index(const Node& part, std::string_view what) {
  const Property* integer = part.Find("valueInteger");
  std::size_t index = 0;
  const std::string text = integer == nullptr ? "" : integer->values[0].text;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), index);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return Err(Status::Invalid("the '" + std::string(what) + "' part needs a valueInteger of 0 or more"));
  }
  return index;
}

Result<Operation> ReadOperation(const Node& parameter) {
  if (parameter.TextOf("name") != "operation") return Err(Status::Invalid("every parameter of a FHIRPath Patch is named 'operation'"));
  Operation operation;
  const Property* parts = parameter.Find("part");
  if (parts == nullptr) return Err(Status::Invalid("an operation needs parts (type, path, ...)"));
  for (const Node& part : parts->values) {
    const std::string_view name = part.TextOf("name");
    if (name == "type") {
      operation.type = part.TextOf("valueCode");
    } else if (name == "path") {
      operation.path = part.TextOf("valueString");
    } else if (name == "name") {
      operation.name = part.TextOf("valueString");
    } else if (name == "value") {
      operation.value = ValueOf(part);
    } else if (name == "index") {
      CK_ASSIGN_OR_RETURN(operation.index, Index(part, name));
    } else if (name == "source") {
      CK_ASSIGN_OR_RETURN(operation.source, Index(part, name));
    } else if (name == "destination") {
      CK_ASSIGN_OR_RETURN(operation.destination, Index(part, name));
    } else {
      return Err(Status::Invalid("unknown part '" + std::string(name.substr(0, 64)) + "'"));
    }
  }
  static const std::string kTypes[] = {"add", "insert", "delete", "replace", "move"};
  if (std::find(std::begin(kTypes), std::end(kTypes), operation.type) == std::end(kTypes)) {
    return Err(Status::Invalid("the type part must be add, insert, delete, replace or move"));
  }
  if (operation.path.empty()) return Err(Status::Invalid("an operation needs a path (valueString)"));
  const std::string& type = operation.type;
  if (type == "add" && operation.name.empty()) return Err(Status::Invalid("add needs a name (valueString)"));
  if ((type == "add" || type == "insert" || type == "replace") &&
      (!operation.value || (operation.value->node == nullptr && operation.value->parts == nullptr))) {
    return Err(Status::Invalid(type + " needs a value"));
  }
  if (type == "insert" && !operation.index) return Err(Status::Invalid("insert needs an index"));
  if (type == "move" && (!operation.source || !operation.destination)) return Err(Status::Invalid("move needs a source and a destination"));
  return operation;
}

// The children a node of this slot has: a backbone element's own, else its type's.
const fhir::Structure& StructureOf(const fhir::ChildSlot& slot) {
  return slot.element->inline_children != nullptr ? *slot.element->inline_children : slot.type->structure;
}

// The JSON name and slot of element `name` in `structure` for a value of type `suffix` (which
// picks the type of a choice element). Errors: kUnprocessable.
Result<std::pair<std::string, const fhir::ChildSlot*>> ChildFor(const fhir::Structure& structure, const std::string& name,
                                                                const std::string& suffix) {
  const fhir::ChildSlot* slot = structure.Find(name);
  if (slot != nullptr && !slot->is_primitive_extension && !slot->element->is_choice) return std::pair{name, slot};
  if (!suffix.empty()) {
    slot = structure.Find(name + suffix);
    if (slot != nullptr && slot->element->is_choice) return std::pair{name + suffix, slot};
  }
  return Err(Unprocessable("there is no element '" + name.substr(0, 64) + "'" + (suffix.empty() ? "" : " of type " + suffix) + " here"));
}

// The position of an element among its structure's, for placing new properties in definition order.
std::size_t Position(const fhir::Structure& structure, const Property& property) {
  if (property.slot == nullptr) return 0;  // resourceType first
  auto it = std::find(structure.elements.begin(), structure.elements.end(), property.slot->element);
  return 1 + static_cast<std::size_t>(it - structure.elements.begin());
}

Property& FindOrInsert(Node& parent, const fhir::Structure& structure, const std::string& json_name, const fhir::ChildSlot* slot) {
  if (Property* existing = parent.Find(json_name)) return *existing;
  Property property{json_name, slot->element->IsArray(), slot, {}};
  const std::size_t position = Position(structure, property);
  auto it = std::find_if(parent.properties.begin(), parent.properties.end(),
                         [&](const Property& p) { return Position(structure, p) > position; });
  return *parent.properties.insert(it, std::move(property));
}

Node NullNode() { return Node{JsonKind::kNull, nullptr, {}, {}}; }

// Puts `value` (and its extension part) at `index` of element `json_name` of `parent` (npos:
// at the end), keeping the `_name` list aligned with the values.
void PlaceAt(Node& parent, const fhir::Structure& structure, const std::string& json_name, const fhir::ChildSlot* slot,
             std::size_t index, Node value, const Node* extension) {
  Property& property = FindOrInsert(parent, structure, json_name, slot);
  const std::size_t before = property.values.size();
  index = std::min(index, before);
  property.values.insert(property.values.begin() + static_cast<std::ptrdiff_t>(index), std::move(value));
  const std::string extension_name = "_" + json_name;
  if (parent.Find(extension_name) == nullptr && extension == nullptr) return;
  const fhir::ChildSlot* extension_slot = structure.Find(extension_name);
  if (extension_slot == nullptr) return;
  Property& extensions = FindOrInsert(parent, structure, extension_name, extension_slot);
  extensions.values.resize(std::max(extensions.values.size(), before), NullNode());
  extensions.values.insert(extensions.values.begin() + static_cast<std::ptrdiff_t>(index),
                           extension != nullptr ? *extension : NullNode());
}

// Takes the value at `index` of `json_name` (and its extension part) out of `parent`, dropping
// lists left empty. Returns the value and its extension part (kNull when none).
std::pair<Node, Node> TakeAt(Node& parent, const std::string& json_name, std::size_t index) {
  std::pair<Node, Node> taken{NullNode(), NullNode()};
  auto take = [&](const std::string& name, Node& into) {
    Property* property = parent.Find(name);
    if (property == nullptr || index >= property->values.size()) return;
    into = std::move(property->values[index]);
    property->values.erase(property->values.begin() + static_cast<std::ptrdiff_t>(index));
    if (std::all_of(property->values.begin(), property->values.end(), [](const Node& n) { return n.kind == JsonKind::kNull; })) {
      std::erase_if(parent.properties, [&](const Property& p) { return &p == property; });
    }
  };
  take(json_name, taken.first);
  take("_" + json_name, taken.second);
  return taken;
}

// Drops what a deletion left empty: objects without members (in a primitive's `_name` list,
// nulls keep the places), then lists of nothing but nulls. FHIR JSON has no empty objects.
void Prune(Node& node) {
  for (Property& property : node.properties) {
    const bool extension_part = property.name.starts_with("_");
    for (Node& value : property.values) {
      if (value.kind != JsonKind::kObject) continue;
      Prune(value);
      if (value.properties.empty() && extension_part) value = NullNode();
    }
    std::erase_if(property.values, [](const Node& value) { return value.kind == JsonKind::kObject && value.properties.empty(); });
  }
  std::erase_if(node.properties, [](const Property& property) {
    return std::all_of(property.values.begin(), property.values.end(), [](const Node& n) { return n.kind == JsonKind::kNull; });
  });
}

// Finds where `target` sits under `node`.
bool Locate(Node& node, const Node* target, Place& place) {
  for (Property& property : node.properties) {
    for (std::size_t i = 0; i < property.values.size(); ++i) {
      Node& value = property.values[i];
      if (&value == target) {
        place = {&node, property.name, i};
        return true;
      }
      if (value.kind == JsonKind::kObject && Locate(value, target, place)) return true;
    }
  }
  return false;
}

class Patcher {
 public:
  Patcher(fhir::Resource resource, const fhir::Definitions& definitions) : resource_(std::move(resource)), definitions_(definitions) {}

  Status Apply(const Operation& op) {
    if (op.type == "add") return Add(op);
    if (op.type == "insert") return Insert(op);
    if (op.type == "delete") return Delete(op);
    if (op.type == "replace") return Replace(op);
    return Move(op);
  }

  // Binds the tree again, so the next operation's paths see the types of what this one placed.
  Status Rebind() {
    fhir::BindOptions options;
    options.enforce_cardinality = false;
    Prune(resource_.root());
    auto bound = fhir::BindResource(std::move(resource_.root()), definitions_, options);
    if (!bound) return Status::Unprocessable("the result is not a valid resource: " + bound.error().message()).WithIssues(bound.error().issues());
    resource_ = std::move(*bound);
    return Status::Ok();
  }

  fhir::Resource Take() { return std::move(resource_); }

 private:
  // The elements `path` finds. Errors: kInvalid (not FHIRPath), kUnprocessable (not elements).
  Result<std::vector<const Node*>> Find(const std::string& path) {
    CK_ASSIGN_OR_RETURN(fhirpath::Expression expression, fhirpath::Expression::Compile(path));
    auto found = expression.Evaluate(resource_, definitions_);
    if (!found) return Err(Unprocessable("the path cannot be evaluated: " + found.error().message()));
    std::vector<const Node*> nodes;
    for (const fhirpath::Value& value : *found) {
      if (!value.IsElement() || value.node == nullptr) return Err(Unprocessable("the path finds a value that is not an element of the resource"));
      nodes.push_back(value.node);
    }
    return nodes;
  }

  // The one element `path` finds. Errors: as Find; kUnprocessable when none or several.
  Result<const Node*> FindOne(const std::string& path, std::string_view doing) {
    CK_ASSIGN_OR_RETURN(std::vector<const Node*> nodes, Find(path));
    if (nodes.empty()) return Err(Unprocessable("no content found at " + path + " when " + std::string(doing)));
    if (nodes.size() > 1) return Err(Unprocessable("the path finds " + std::to_string(nodes.size()) + " elements; it must find one"));
    return nodes[0];
  }

  // A node of the tree found by a path, made editable, with its children's structure.
  struct Target {
    Node* node;
    std::optional<Place> place;  // none for the resource itself
    const fhir::Structure* structure;
    const fhir::ChildSlot* slot;  // the slot the node fills (null for the resource)
  };
  // Errors: kUnprocessable when the node is not in this resource's tree (resolve() of a
  // reference to another resource finds one).
  Result<Target> Edit(const Node* found) {
    if (found == &resource_.root()) return Target{&resource_.root(), std::nullopt, &resource_.type().structure, nullptr};
    Place place;
    if (!Locate(resource_.root(), found, place)) return Err(Unprocessable("the path finds an element outside the resource"));
    Node& node = place.parent->Find(place.name)->values[place.index];
    const fhir::ChildSlot* slot = place.parent->Find(place.name)->slot;
    const fhir::Structure* structure = node.type != nullptr && node.type->IsResource() ? &node.type->structure : &StructureOf(*slot);
    return Target{&node, place, structure, slot};
  }

  // The node a value makes for `slot`: a copy of value[x], or one built from parts.
  Result<Node> Materialize(const PatchValue& value, const fhir::ChildSlot& slot, int depth) {
    if (value.parts == nullptr) return *value.node;
    if (depth > 32) return Err(Status::Invalid("a value's parts are nested too deep"));
    Node object;
    const fhir::Structure& structure = StructureOf(slot);
    for (const Node& part : value.parts->Find("part")->values) {
      PatchValue inner = ValueOf(part);
      if (inner.node == nullptr && inner.parts == nullptr) return Err(Status::Invalid("a part of a value has no value"));
      CK_ASSIGN_OR_RETURN(auto child, ChildFor(structure, std::string(part.TextOf("name")), inner.suffix));
      if (!child.second->element->IsArray() && object.Find(child.first) != nullptr) {
        return Err(Unprocessable("a value gives element '" + child.first + "' twice; it takes one"));
      }
      CK_ASSIGN_OR_RETURN(Node built, Materialize(inner, *child.second, depth + 1));
      PlaceAt(object, structure, child.first, child.second, std::string::npos, std::move(built), inner.extension);
    }
    if (object.properties.empty()) return Err(Status::Invalid("a value made of parts needs at least one part"));
    return object;
  }

  Status Add(const Operation& op) {
    CK_ASSIGN_OR_RETURN(const Node* found, FindOne(op.path, "adding"));
    CK_ASSIGN_OR_RETURN(Target target, Edit(found));
    CK_ASSIGN_OR_RETURN(auto child, ChildFor(*target.structure, op.name, op.value->suffix));
    const fhir::ElementDefinition* element = child.second->element;
    if (!element->IsArray()) {
      for (const Property& property : target.node->properties) {
        if (property.slot != nullptr && property.slot->element == element && !property.slot->is_primitive_extension) {
          return Unprocessable(op.path + " has " + op.name + " already; use replace to change it");
        }
      }
    }
    CK_ASSIGN_OR_RETURN(Node value, Materialize(*op.value, *child.second, 0));
    PlaceAt(*target.node, *target.structure, child.first, child.second, std::string::npos, std::move(value), op.value->extension);
    return Status::Ok();
  }

  // The container and element name of a list path ("Patient.identifier": Patient, identifier).
  struct List {
    Target container;
    std::string name;
    const fhir::ChildSlot* slot;
  };
  Result<List> FindList(const std::string& path, std::string_view doing) {
    std::size_t dot = path.rfind('.');
    std::string name = dot == std::string::npos ? "" : path.substr(dot + 1);
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; })) {
      return Err(Status::Invalid(std::string(doing) + " needs the path of a list, ending in its element's name"));
    }
    CK_ASSIGN_OR_RETURN(const Node* found, FindOne(path.substr(0, dot), doing));
    CK_ASSIGN_OR_RETURN(Target container, Edit(found));
    CK_ASSIGN_OR_RETURN(auto child, ChildFor(*container.structure, name, ""));
    if (!child.second->element->IsArray()) return Err(Unprocessable(name + " is not a list"));
    return List{container, child.first, child.second};
  }

  Status Insert(const Operation& op) {
    CK_ASSIGN_OR_RETURN(List list, FindList(op.path, "inserting"));
    const Property* existing = list.container.node->Find(list.name);
    const std::size_t size = existing == nullptr ? 0 : existing->values.size();
    if (*op.index > size) return Unprocessable("index " + std::to_string(*op.index) + " is past the list's end (" + std::to_string(size) + ")");
    CK_ASSIGN_OR_RETURN(Node value, Materialize(*op.value, *list.slot, 0));
    PlaceAt(*list.container.node, *list.container.structure, list.name, list.slot, *op.index, std::move(value), op.value->extension);
    return Status::Ok();
  }

  Status Delete(const Operation& op) {
    CK_ASSIGN_OR_RETURN(std::vector<const Node*> nodes, Find(op.path));
    if (nodes.empty()) return Status::Ok();  // deleting what is not there changes nothing
    if (nodes.size() > 1) return Unprocessable("the path finds " + std::to_string(nodes.size()) + " elements; delete takes one");
    CK_ASSIGN_OR_RETURN(Target target, Edit(nodes[0]));
    if (!target.place) return Unprocessable("a patch cannot delete the resource itself");
    TakeAt(*target.place->parent, target.place->name, target.place->index);
    return Status::Ok();
  }

  Status Replace(const Operation& op) {
    CK_ASSIGN_OR_RETURN(const Node* found, FindOne(op.path, "replacing"));
    CK_ASSIGN_OR_RETURN(Target target, Edit(found));
    if (!target.place) return Unprocessable("a patch cannot replace the resource itself");
    const Place place = *target.place;
    CK_ASSIGN_OR_RETURN(const fhir::Structure* parent_structure, ParentStructure(place));
    std::string json_name = place.name;
    const fhir::ChildSlot* slot = target.slot;
    if (slot->element->is_choice && !op.value->suffix.empty()) {  // the value's type picks the choice
      CK_ASSIGN_OR_RETURN(auto child, ChildFor(*parent_structure, slot->element->name, op.value->suffix));
      json_name = child.first;
      slot = child.second;
    }
    CK_ASSIGN_OR_RETURN(Node value, Materialize(*op.value, *slot, 0));
    TakeAt(*place.parent, place.name, place.index);
    PlaceAt(*place.parent, *parent_structure, json_name, slot, place.index, std::move(value), op.value->extension);
    return Status::Ok();
  }

  Status Move(const Operation& op) {
    CK_ASSIGN_OR_RETURN(List list, FindList(op.path, "moving"));
    const Property* existing = list.container.node->Find(list.name);
    const std::size_t size = existing == nullptr ? 0 : existing->values.size();
    if (*op.source >= size || *op.destination >= size) {
      return Unprocessable("source and destination must be positions in the list (it has " + std::to_string(size) + ")");
    }
    auto [value, extension] = TakeAt(*list.container.node, list.name, *op.source);
    PlaceAt(*list.container.node, *list.container.structure, list.name, list.slot, *op.destination, std::move(value),
            extension.kind == JsonKind::kNull ? nullptr : &extension);
    return Status::Ok();
  }

  // The structure of the node that holds `place`.
  Result<const fhir::Structure*> ParentStructure(const Place& place) {
    if (place.parent == &resource_.root()) return &resource_.type().structure;
    CK_ASSIGN_OR_RETURN(Target parent, Edit(place.parent));
    return parent.structure;
  }

  fhir::Resource resource_;
  const fhir::Definitions& definitions_;
};

}  // namespace

Result<fhir::Resource> ApplyFhirPathPatch(fhir::Resource resource, const fhir::Resource& patch, const fhir::Definitions& definitions) {
  if (patch.type_name() != "Parameters") return Err(Status::Invalid("a FHIRPath Patch is a Parameters resource"));
  std::vector<Operation> operations;
  if (const Property* parameters = patch.root().Find("parameter")) {
    if (parameters->values.size() > kMaxOperations) {
      return Err(Status::Invalid("a FHIRPath Patch may hold at most " + std::to_string(kMaxOperations) + " operations"));
    }
    for (std::size_t i = 0; i < parameters->values.size(); ++i) {
      auto operation = ReadOperation(parameters->values[i]);
      if (!operation) return Err(std::move(operation).error().WithContext("operation " + std::to_string(i)));
      operations.push_back(std::move(*operation));
    }
  }
  Patcher patcher(std::move(resource), definitions);
  for (std::size_t i = 0; i < operations.size(); ++i) {
    Status applied = patcher.Apply(operations[i]);
    if (applied.ok()) applied = patcher.Rebind();
    if (!applied.ok()) {
      return Err(std::move(applied).WithContext("operation " + std::to_string(i) + " (" + operations[i].type + " " +
                                                operations[i].path.substr(0, 200) + ")"));
    }
  }
  return patcher.Take();
}

}  // namespace ck::records
