#pragma once
// JSON helpers for tests: a RapidJSON document for inspecting responses, and a canonical form
// (object members sorted, numbers kept as their source text) for comparing resources by meaning.

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <string>

#include "fhir/json_reader.h"
#include "fhir/json_writer.h"

namespace ck::testing {

inline rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  return doc;
}

// A JSON value written back as text (compact).
inline std::string ToJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

inline void SortMembers(fhir::Node& node) {
  std::sort(node.properties.begin(), node.properties.end(),
            [](const fhir::Property& a, const fhir::Property& b) { return a.name < b.name; });
  for (auto& property : node.properties) {
    for (auto& value : property.values) SortMembers(value);
  }
}

// The canonical JSON of `json`, without the top-level members in `drop` (by default `meta`,
// the server's to set); "" if not JSON.
inline std::string CanonicalJson(std::string_view json, std::initializer_list<std::string_view> drop = {"meta"}) {
  auto tree = fhir::ParseJsonTree(json, {.max_depth = 1000});
  if (!tree) return "";
  std::erase_if(tree->properties, [&](const fhir::Property& p) { return std::find(drop.begin(), drop.end(), p.name) != drop.end(); });
  SortMembers(*tree);
  return fhir::WriteJson(*tree);
}

}  // namespace ck::testing
