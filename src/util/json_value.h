#pragma once
// Any JSON value (RFC 8259) as a small tree: for documents that are not FHIR resources, such as
// a JSON Patch (RFC 6902), and for editing a resource's JSON where FHIR's own rules (no empty
// objects, no nested arrays) may hold only for the end result. Numbers keep their source text,
// so "1.50" is written back as "1.50"; object members keep their order.
// Thread safety: plain values; the functions are pure.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace ck {

struct JsonValue {
  enum class Kind : std::uint8_t { kNull, kBoolean, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  std::string text;                                       // string content, number text, "true"/"false"
  std::vector<JsonValue> items;                           // kArray
  std::vector<std::pair<std::string, JsonValue>> members; // kObject, in order

  bool is_object() const { return kind == Kind::kObject; }
  bool is_array() const { return kind == Kind::kArray; }
  // The member named `name` of an object, or nullptr.
  const JsonValue* Find(std::string_view name) const;
  JsonValue* Find(std::string_view name);
  // How many values the tree holds (this one included): a measure of its size.
  std::size_t Count() const;
};

// Leaf values and an empty object, for building documents.
JsonValue JsonString(std::string_view text);
JsonValue JsonNumber(std::int64_t value);
JsonValue JsonBoolean(bool value);
JsonValue JsonObject();

// Parses JSON text (UTF-8 checked, iteratively so deep input cannot overflow the stack).
// Errors: kInvalid naming the offset (not JSON, bad UTF-8, deeper than `max_depth`, a key twice
// in one object).
Result<JsonValue> ParseJsonValue(std::string_view json, unsigned max_depth = 64);

// Compact JSON text, numbers as their source text.
std::string WriteJsonValue(const JsonValue& value);

// Equality as RFC 6902's "test" defines it: same kind; numbers numerically equal; strings and
// arrays item by item; objects with the same members in any order.
bool JsonEquals(const JsonValue& a, const JsonValue& b);

}  // namespace ck
