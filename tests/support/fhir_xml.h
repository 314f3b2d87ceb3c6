#pragma once
// FHIR XML to FHIR JSON for test material that comes only as XML (the FHIRPath Patch cases):
// an XML tree read with expat, then turned into JSON with the R4 definitions deciding what is a
// list, a number or a boolean, where a primitive's `_name` part goes, and which elements hold a
// nested resource. Narrative `div`s are written back as XHTML text. Enough for test inputs; not
// a general FHIR XML reader (no comments or processing instructions are kept).

#include <expat.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fhir/definitions.h"
#include "util/json_value.h"

namespace ck::testing {

struct XmlNode {
  bool is_text = false;
  std::string name;  // element name as written (no namespace processing); text for a text node
  std::vector<std::pair<std::string, std::string>> attributes;
  std::vector<XmlNode> children;

  std::string_view Attribute(std::string_view key) const {
    for (const auto& [name, value] : attributes) {
      if (name == key) return value;
    }
    return {};
  }
  std::vector<const XmlNode*> Elements(std::string_view name = {}) const {
    std::vector<const XmlNode*> elements;
    for (const XmlNode& child : children) {
      if (!child.is_text && (name.empty() || child.name == name)) elements.push_back(&child);
    }
    return elements;
  }
};

// Parses an XML document; an empty root named "error: ..." when it is not well-formed.
inline XmlNode ParseXml(std::string_view text) {
  struct State {
    XmlNode root;
    std::vector<XmlNode*> open;
  } state;
  XML_Parser parser = XML_ParserCreate("UTF-8");
  XML_SetUserData(parser, &state);
  XML_SetElementHandler(
      parser,
      [](void* data, const XML_Char* name, const XML_Char** attributes) {
        auto& s = *static_cast<State*>(data);
        XmlNode node;
        node.name = name;
        for (int i = 0; attributes[i] != nullptr; i += 2) node.attributes.emplace_back(attributes[i], attributes[i + 1]);
        if (s.open.empty()) {
          s.root = std::move(node);
          s.open.push_back(&s.root);
        } else {
          s.open.push_back(&s.open.back()->children.emplace_back(std::move(node)));
        }
      },
      [](void* data, const XML_Char*) { static_cast<State*>(data)->open.pop_back(); });
  XML_SetCharacterDataHandler(parser, [](void* data, const XML_Char* text, int length) {
    auto& s = *static_cast<State*>(data);
    if (s.open.empty()) return;
    auto& children = s.open.back()->children;
    if (children.empty() || !children.back().is_text) children.push_back(XmlNode{true, "", {}, {}});
    children.back().name.append(text, static_cast<std::size_t>(length));
  });
  if (XML_Parse(parser, text.data(), static_cast<int>(text.size()), 1) == XML_STATUS_ERROR) {
    state.root = XmlNode{false, std::string("error: ") + XML_ErrorString(XML_GetErrorCode(parser)), {}, {}};
  }
  XML_ParserFree(parser);
  return std::move(state.root);
}

// An XML subtree as text again (for XHTML narratives).
inline void WriteXml(const XmlNode& node, std::string& out) {
  auto escape = [&](std::string_view text, bool attribute) {
    for (char c : text) {
      if (c == '&') out += "&amp;";
      else if (c == '<') out += "&lt;";
      else if (c == '>') out += "&gt;";
      else if (c == '"' && attribute) out += "&quot;";
      else out += c;
    }
  };
  if (node.is_text) return escape(node.name, false);
  out += "<" + node.name;
  for (const auto& [name, value] : node.attributes) {
    out += " " + name + "=\"";
    escape(value, true);
    out += "\"";
  }
  if (node.children.empty()) {
    out += "/>";
    return;
  }
  out += ">";
  for (const XmlNode& child : node.children) WriteXml(child, out);
  out += "</" + node.name + ">";
}

namespace fhir_xml {

inline JsonValue String(std::string text) { return JsonValue{JsonValue::Kind::kString, std::move(text), {}, {}}; }

inline JsonValue& Member(JsonValue& object, const std::string& name, bool is_array) {
  if (JsonValue* existing = object.Find(name)) return *existing;
  object.members.emplace_back(name, JsonValue{is_array ? JsonValue::Kind::kArray : JsonValue::Kind::kNull, "", {}, {}});
  return object.members.back().second;
}

// Puts `value` under `name` (appended when a list), and a primitive's extension part under
// `_name`, keeping the two lists aligned with nulls.
inline void Append(JsonValue& object, const std::string& name, bool is_array, JsonValue value, JsonValue extension) {
  JsonValue& slot = Member(object, name, is_array);
  std::size_t index = 0;
  if (is_array) {
    index = slot.items.size();
    slot.items.push_back(std::move(value));
  } else {
    slot = std::move(value);
  }
  if (extension.kind == JsonValue::Kind::kNull) return;
  JsonValue& extensions = Member(object, "_" + name, is_array);
  if (is_array) {
    extensions.items.resize(index, JsonValue{});
    extensions.items.push_back(std::move(extension));
  } else {
    extensions = std::move(extension);
  }
}

inline JsonValue Resource(const XmlNode& element, const fhir::Definitions& definitions);

inline void Fill(JsonValue& object, const XmlNode& element, const fhir::Structure& structure, const fhir::Definitions& definitions) {
  object.kind = JsonValue::Kind::kObject;
  for (const auto& [name, value] : element.attributes) {
    if (name != "value" && !name.starts_with("xmlns")) object.members.emplace_back(name, String(value));
  }
  for (const XmlNode* child : element.Elements()) {
    const fhir::ChildSlot* slot = structure.Find(child->name);
    if (slot == nullptr) {
      object.members.emplace_back("unknown-xml-element-" + child->name, String("?"));
      continue;
    }
    const bool is_array = slot->element->IsArray();
    if (slot->type->name == "xhtml") {
      std::string xhtml;
      WriteXml(*child, xhtml);
      Append(object, child->name, is_array, String(std::move(xhtml)), {});
    } else if (slot->type->IsResource()) {
      std::vector<const XmlNode*> inner = child->Elements();
      Append(object, child->name, is_array, inner.empty() ? JsonValue{} : Resource(*inner[0], definitions), {});
    } else if (slot->type->IsPrimitive()) {
      const bool has_value = std::any_of(child->attributes.begin(), child->attributes.end(),
                                         [](const auto& attribute) { return attribute.first == "value"; });
      JsonValue value;
      if (has_value) {
        value = String(std::string(child->Attribute("value")));
        if (slot->type->json_form == fhir::JsonForm::kNumber) value.kind = JsonValue::Kind::kNumber;
        if (slot->type->json_form == fhir::JsonForm::kBoolean) value.kind = JsonValue::Kind::kBoolean;
      }
      JsonValue extension;
      if (!child->Elements().empty() || !child->Attribute("id").empty()) Fill(extension, *child, slot->type->structure, definitions);
      if (has_value || extension.kind != JsonValue::Kind::kNull) Append(object, child->name, is_array, std::move(value), std::move(extension));
    } else {
      JsonValue value;
      const fhir::Structure& inner =
          slot->element->inline_children != nullptr ? *slot->element->inline_children : slot->type->structure;
      Fill(value, *child, inner, definitions);
      Append(object, child->name, is_array, std::move(value), {});
    }
  }
}

// A resource element (<Patient xmlns="http://hl7.org/fhir">...) as JSON.
inline JsonValue Resource(const XmlNode& element, const fhir::Definitions& definitions) {
  JsonValue object{JsonValue::Kind::kObject, "", {}, {}};
  object.members.emplace_back("resourceType", String(element.name));
  const fhir::TypeDefinition* type = definitions.FindResourceType(element.name);
  if (type != nullptr) Fill(object, element, type->structure, definitions);
  return object;
}

}  // namespace fhir_xml

// FHIR XML of a resource as FHIR JSON text.
inline std::string FhirXmlToJson(const XmlNode& resource, const fhir::Definitions& definitions) {
  return WriteJsonValue(fhir_xml::Resource(resource, definitions));
}

}  // namespace ck::testing
