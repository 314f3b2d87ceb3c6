#include "fhir/json_reader.h"

#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "fhir/element_path.h"
#include "fhir/primitive_syntax.h"

namespace ck::fhir {
namespace {

constexpr unsigned kParseFlags = rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag |
                                 rapidjson::kParseIterativeFlag;

// No FHIR R4 object has more than a few hundred possible members (each element once, plus its
// "_element" partner); an object with more cannot be valid, so it is refused while the tree is
// built instead of being bound member by member.
constexpr std::size_t kMaxObjectMembers = 2048;

// Names and values from the input appear in messages at most this long, so an error answer
// cannot grow much beyond the body it answers.
constexpr std::size_t kMaxQuotedLength = ElementPath::kMaxNameLength;

std::string Quoted(std::string_view text) {
  if (text.size() <= kMaxQuotedLength) return "'" + std::string(text) + "'";
  return "'" + std::string(text.substr(0, kMaxQuotedLength)) + "...'";
}

Status InvalidAt(std::string message, std::string expression, IssueType type = IssueType::kStructure) {
  std::vector<Issue> issues{{type, message, std::move(expression)}};
  return Status::Invalid(std::move(message)).WithIssues(std::move(issues));
}

// Step 1: JSON text to an unbound tree. Each handler returns false to stop at the first error.
class TreeBuilder {
 public:
  explicit TreeBuilder(unsigned max_depth) : max_depth_(max_depth) {}

  bool Null() {
    if (frames_.empty() || frames_.back().array == nullptr) return Fail("null is only allowed inside arrays");
    return AddScalar(JsonKind::kNull, {});
  }
  bool Bool(bool b) { return AddScalar(JsonKind::kBoolean, b ? "true" : "false"); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) { return AddScalar(JsonKind::kNumber, {s, n}); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (n == 0) return Fail("empty strings are not allowed (leave the element out instead)");
    return AddScalar(JsonKind::kString, {s, n});
  }
  bool StartObject() {
    if (!Enter()) return false;
    Node* node = nullptr;
    if (frames_.empty() && !have_root_) {
      node = &root_;
      have_root_ = true;
    } else {
      node = Slot();
      if (node == nullptr) return false;
    }
    node->kind = JsonKind::kObject;
    frames_.push_back({node, nullptr});
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    auto& properties = frames_.back().object->properties;
    if (properties.size() == kMaxObjectMembers) {
      return Fail("an object with more than " + std::to_string(kMaxObjectMembers) + " members cannot be a FHIR element");
    }
    properties.push_back(Property{std::string(s, n), false, nullptr, {}});
    return true;
  }
  bool EndObject(rapidjson::SizeType members) {
    if (members == 0) return Fail("empty objects are not allowed (leave the element out instead)");
    frames_.pop_back();
    --depth_;
    return true;
  }
  bool StartArray() {
    if (!Enter()) return false;
    if (frames_.empty()) return Fail("a resource must be a JSON object");
    if (frames_.back().array != nullptr) return Fail("arrays directly inside arrays are not FHIR JSON");
    Property& property = frames_.back().object->properties.back();
    property.is_array = true;
    frames_.push_back({nullptr, &property});
    return true;
  }
  bool EndArray(rapidjson::SizeType elements) {
    if (elements == 0) {
      frames_.pop_back();  // the location is the array's element, not a position in it
      return Fail("empty arrays are not allowed (leave the element out instead)");
    }
    frames_.pop_back();
    --depth_;
    return true;
  }
  // Unused with kParseNumbersAsStringsFlag, required by the handler concept.
  bool Int(int) { return false; }
  bool Uint(unsigned) { return false; }
  bool Int64(std::int64_t) { return false; }
  bool Uint64(std::uint64_t) { return false; }
  bool Double(double) { return false; }

  Node TakeRoot() { return std::move(root_); }
  const std::string& error() const { return error_; }
  const std::string& error_path() const { return error_path_; }
  bool too_deep() const { return too_deep_; }

 private:
  struct Frame {
    Node* object;     // the object being filled, or
    Property* array;  // the array being filled
  };

  bool Enter() {
    if (++depth_ > max_depth_) {
      too_deep_ = true;
      return Fail("JSON nested deeper than " + std::to_string(max_depth_) + " levels");
    }
    return true;
  }
  // Where the next value goes; nullptr (after Fail) at the top level.
  Node* Slot() {
    if (frames_.empty()) {
      Fail("a resource must be a JSON object");
      return nullptr;
    }
    Frame& top = frames_.back();
    std::vector<Node>& values = top.array != nullptr ? top.array->values : top.object->properties.back().values;
    return &values.emplace_back();
  }
  bool AddScalar(JsonKind kind, std::string_view text) {
    Node* node = Slot();
    if (node == nullptr) return false;
    node->kind = kind;
    node->text = text;
    return true;
  }
  // Records the first error and where it is, as a FHIRPath rooted at the resource type (when
  // resourceType came before it) with 0-based indexes.
  bool Fail(std::string message) {
    error_ = std::move(message);
    if (std::string_view type = root_.TextOf("resourceType"); !type.empty()) error_path_ = type.substr(0, kMaxQuotedLength);
    for (std::size_t i = 0; i < frames_.size(); ++i) {
      const Frame& frame = frames_[i];
      if (frame.array != nullptr) {
        // An enclosing array already holds the value being built; the innermost one is about to
        // receive the value that failed.
        const std::size_t count = frame.array->values.size();
        const std::size_t index = i + 1 == frames_.size() ? count : count - 1;
        error_path_ += "[" + std::to_string(index) + "]";
      } else if (!frame.object->properties.empty()) {
        if (!error_path_.empty()) error_path_ += ".";
        error_path_ += std::string_view(frame.object->properties.back().name).substr(0, kMaxQuotedLength);
      }
    }
    return false;
  }

  unsigned max_depth_;
  unsigned depth_ = 0;
  bool have_root_ = false;
  bool too_deep_ = false;
  Node root_;
  std::vector<Frame> frames_;
  std::string error_;
  std::string error_path_;
};

std::string_view JsonKindName(JsonKind kind) {
  switch (kind) {
    case JsonKind::kObject: return "an object";
    case JsonKind::kString: return "a string";
    case JsonKind::kNumber: return "a number";
    case JsonKind::kBoolean: return "a boolean";
    case JsonKind::kNull: return "null";
  }
  return "a value";
}

std::string_view JsonFormName(JsonForm form) {
  switch (form) {
    case JsonForm::kString: return "a string";
    case JsonForm::kNumber: return "a number";
    case JsonForm::kBoolean: return "a boolean";
  }
  return "a value";
}

bool Matches(JsonForm form, JsonKind kind) {
  switch (form) {
    case JsonForm::kString: return kind == JsonKind::kString;
    case JsonForm::kNumber: return kind == JsonKind::kNumber;
    case JsonForm::kBoolean: return kind == JsonKind::kBoolean;
  }
  return false;
}

using Path = ElementPath;

// Step 2: binds the tree to the definitions, collecting every problem.
class Binder {
 public:
  Binder(const Definitions& definitions, const BindOptions& options) : definitions_(definitions), options_(options) {}

  // `expected`: the declared type where the resource appears (abstract Resource for any).
  // `path`: where the resource is; nullptr at the root.
  void BindResource(Node& node, const TypeDefinition* expected, const Path* path) {
    const Property* type_property = node.Find("resourceType");
    auto here = [&](std::string_view child) { return path != nullptr ? path->Child(child) : std::string(child); };
    if (type_property == nullptr || type_property->is_array || type_property->values[0].kind != JsonKind::kString) {
      Report(IssueType::kStructure, "a resource needs a resourceType string", here("resourceType"));
      return;
    }
    const std::string& name = type_property->values[0].text;
    const TypeDefinition* type = definitions_.FindResourceType(name);
    if (type == nullptr) {
      Report(IssueType::kNotSupported, "unknown resourceType " + Quoted(name), here("resourceType"));
      return;
    }
    if (expected != nullptr && !expected->IsAbstractResource() && expected != type) {
      Report(IssueType::kStructure, "expected a " + expected->name + ", not a " + name, path->Render());
      return;
    }
    node.type = type;
    Path root{nullptr, type->name};
    BindObject(node, type->structure, path != nullptr ? *path : root, true);
  }

  bool structural() const { return structural_; }
  // The issues found, the last one saying that more were left unreported if the cap was hit.
  std::vector<Issue> TakeIssues() {
    if (suppressed_) {
      issues_.push_back({IssueType::kTooCostly,
                         "more problems may follow; only the first " + std::to_string(options_.max_issues) + " are reported",
                         ""});
    }
    return std::move(issues_);
  }

 private:
  // Once a problem past the cap is found, binding stops: the work and the answer stay bounded.
  bool full() const { return suppressed_; }

  void Report(IssueType type, std::string message, std::string expression) {
    if (type == IssueType::kRequired && !options_.enforce_cardinality) return;
    if (type != IssueType::kRequired) structural_ = true;
    if (issues_.size() >= options_.max_issues) {
      suppressed_ = true;
      return;
    }
    issues_.push_back({type, std::move(message), std::move(expression)});
  }

  void BindObject(Node& node, const Structure& structure, const Path& path, bool is_resource_root) {
    if (!CheckDuplicateKeys(node, path)) return;  // an object with duplicate keys means nothing more
    for (Property& property : node.properties) {
      if (full()) return;
      if (is_resource_root && property.name == "resourceType") continue;
      const ChildSlot* slot = structure.Find(property.name);
      const Path property_path{&path, property.name};
      if (slot == nullptr) {
        // Located at the object that holds it, as the reference validator does: a name that is no
        // element is no FHIRPath.
        Report(IssueType::kStructure, "unknown element " + Quoted(property.name), path.Render());
        continue;
      }
      property.slot = slot;
      const ElementDefinition& element = *slot->element;
      if (element.IsArray() != property.is_array) {
        Report(IssueType::kStructure,
               element.IsArray() ? "'" + property.name + "' must be an array" : "'" + property.name + "' allows one value, not an array",
               property_path.Render());
        continue;
      }
      if (element.max != ElementDefinition::kUnbounded && property.values.size() > element.max) {
        Report(IssueType::kRequired,
               "'" + property.name + "' allows at most " + std::to_string(element.max) + " values", property_path.Render());
      }
      for (std::size_t i = 0; i < property.values.size() && !full(); ++i) {
        const Path value_path{&path, property.name, property.is_array ? static_cast<std::ptrdiff_t>(i) : -1};
        BindValue(property.values[i], *slot, value_path);
      }
    }
    CheckChoices(node, path);
    CheckPrimitivePairs(node, path);
    CheckRequired(node, structure, path);
  }

  // A choice element takes one of its types: valueString and valueBoolean side by side are two
  // values of value[x] (a primitive's "_valueString" counts as its string variant).
  void CheckChoices(const Node& node, const Path& path) {
    std::vector<const Property*> choices;
    for (const Property& property : node.properties) {
      if (property.slot == nullptr || !property.slot->element->is_choice) continue;
      for (const Property* seen : choices) {
        if (seen->slot->element != property.slot->element || seen->slot->type == property.slot->type) continue;
        const std::string& name = property.slot->element->name;
        Report(IssueType::kStructure,
               "'" + seen->name + "' and '" + property.name + "' are both given, but " + name + "[x] takes one type",
               path.Child(property.name));
        break;
      }
      choices.push_back(&property);
    }
  }

  void BindValue(Node& value, const ChildSlot& slot, const Path& path) {
    const TypeDefinition& type = *slot.type;
    if (value.kind == JsonKind::kNull) return;  // pairing is checked by CheckPrimitivePairs
    if (slot.is_primitive_extension) {
      if (value.kind != JsonKind::kObject) {
        Report(IssueType::kStructure, "expected an object holding id or extension, got " + std::string(JsonKindName(value.kind)),
               path.Render());
        return;
      }
      value.type = &type;
      BindObject(value, type.structure, path, false);
      return;
    }
    value.type = &type;
    if (type.IsPrimitive()) {
      if (!Matches(type.json_form, value.kind)) {
        Report(IssueType::kStructure,
               "a " + type.name + " must be " + std::string(JsonFormName(type.json_form)) + ", got " +
                   std::string(JsonKindName(value.kind)),
               path.Render());
        return;
      }
      if (auto problem = CheckPrimitive(type.name, value.text)) {
        Report(IssueType::kValue, *problem, path.Render());
      }
      return;
    }
    if (value.kind != JsonKind::kObject) {
      Report(IssueType::kStructure, "a " + type.name + " must be an object, got " + std::string(JsonKindName(value.kind)),
             path.Render());
      return;
    }
    if (type.IsResource()) {
      BindResource(value, &type, &path);
      return;
    }
    const Structure* children = slot.element->inline_children != nullptr ? slot.element->inline_children : &type.structure;
    BindObject(value, *children, path, false);
  }

  // Reports each repeated key; false if there was one.
  bool CheckDuplicateKeys(const Node& node, const Path& path) {
    const auto& props = node.properties;
    bool unique = true;
    auto duplicate = [&](const std::string& name) {
      unique = false;
      Report(IssueType::kStructure, "duplicate key " + Quoted(name), path.Render());
    };
    if (props.size() <= 16) {
      for (std::size_t i = 1; i < props.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
          if (props[i].name == props[j].name) duplicate(props[i].name);
        }
      }
      return unique;
    }
    std::unordered_set<std::string_view> seen;
    for (const Property& p : props) {
      if (!seen.insert(p.name).second) duplicate(p.name);
      if (full()) break;
    }
    return unique;
  }

  // A null in a primitive array stands for "value in the _name array": the two arrays must line
  // up and no position may be null in both. Partners are found by a scan in small objects (most
  // of them: no allocation) and by hash in larger ones, so the cost stays linear in the keys.
  void CheckPrimitivePairs(const Node& node, const Path& path) {
    constexpr std::size_t kScanLimit = 16;
    std::unordered_map<std::string_view, const Property*> by_name;
    if (node.properties.size() > kScanLimit) {
      by_name.reserve(node.properties.size());
      for (const Property& property : node.properties) by_name.emplace(property.name, &property);
    }
    auto find = [&](std::string_view name) -> const Property* {
      if (node.properties.size() <= kScanLimit) return node.Find(name);
      auto it = by_name.find(name);
      return it == by_name.end() ? nullptr : it->second;
    };
    for (const Property& property : node.properties) {
      if (property.slot == nullptr || !property.is_array || !property.slot->type->IsPrimitive()) continue;
      const bool is_extension = property.slot->is_primitive_extension;
      bool has_null = false;
      for (const Node& v : property.values) has_null |= v.kind == JsonKind::kNull;
      const Property* partner = nullptr;
      std::string partner_name;
      if (has_null || !is_extension) {
        partner_name = is_extension ? property.name.substr(1) : "_" + property.name;
        partner = find(partner_name);
      }
      if (partner != nullptr && partner->is_array && partner->values.size() != property.values.size()) {
        if (!is_extension) {
          Report(IssueType::kStructure, "'" + property.name + "' and '" + partner_name + "' must have the same length",
                 path.Child(property.name));
        }
        continue;
      }
      if (!has_null) continue;
      for (std::size_t i = 0; i < property.values.size(); ++i) {
        if (property.values[i].kind != JsonKind::kNull) continue;
        bool partner_has_value = partner != nullptr && partner->is_array && partner->values[i].kind != JsonKind::kNull;
        if (!partner_has_value) {
          Report(IssueType::kStructure, "null needs a value at the same position in '" + partner_name + "'",
                 Path{&path, property.name, static_cast<std::ptrdiff_t>(i)}.Render());
        }
      }
    }
  }

  void CheckRequired(const Node& node, const Structure& structure, const Path& path) {
    for (const ElementDefinition* element : structure.elements) {
      if (element->min == 0) continue;
      bool present = false;
      for (const Property& p : node.properties) present |= p.slot != nullptr && p.slot->element == element;
      if (!present) {
        // At the object that lacks it, as the reference validator locates a minimum not met.
        Report(IssueType::kRequired, "missing required element '" + element->name + (element->is_choice ? "[x]" : "") + "'",
               path.Render());
      }
    }
  }

  const Definitions& definitions_;
  const BindOptions options_;
  std::vector<Issue> issues_;
  bool suppressed_ = false;
  bool structural_ = false;
};

}  // namespace

Result<Node> ParseJsonTree(std::string_view json, const ReadOptions& options) {
  if (json.starts_with("\xEF\xBB\xBF")) json.remove_prefix(3);
  if (std::memchr(json.data(), 0, json.size()) != nullptr) {
    return Err(InvalidAt("invalid JSON: NUL byte in the body", "", IssueType::kInvalid));
  }
  TreeBuilder builder(options.max_depth);
  rapidjson::Reader reader;
  rapidjson::MemoryStream stream(json.data(), json.size());
  rapidjson::ParseResult parsed = reader.Parse<kParseFlags>(stream, builder);
  if (parsed.IsError()) {
    if (!builder.error().empty()) return Err(InvalidAt(builder.error(), builder.error_path()));
    std::string message = std::string("invalid JSON at byte ") + std::to_string(parsed.Offset()) + ": " +
                          rapidjson::GetParseError_En(parsed.Code());
    return Err(InvalidAt(std::move(message), "", IssueType::kInvalid));
  }
  Node root = builder.TakeRoot();
  if (root.kind != JsonKind::kObject) return Err(InvalidAt("a resource must be a JSON object", ""));
  return root;
}

Result<Resource> BindResource(Node root, const Definitions& definitions, const BindOptions& options) {
  Resource resource(std::move(root));
  Binder binder(definitions, options);
  binder.BindResource(resource.root(), nullptr, nullptr);
  std::vector<Issue> issues = binder.TakeIssues();
  if (issues.empty()) return resource;
  std::string summary = issues.size() == 1 ? issues[0].message
                                           : std::to_string(issues.size()) + " problems in the resource, first: " + issues[0].message;
  StatusCode code = binder.structural() ? StatusCode::kInvalid : StatusCode::kUnprocessable;
  return Err(Status(code, std::move(summary)).WithIssues(std::move(issues)));
}

Result<Resource> ReadResource(std::string_view json, const Definitions& definitions, const ReadOptions& options) {
  CK_ASSIGN_OR_RETURN(Node root, ParseJsonTree(json, options));
  return BindResource(std::move(root), definitions, options.bind);
}

}  // namespace ck::fhir
