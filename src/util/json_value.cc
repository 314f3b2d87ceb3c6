#include "util/json_value.h"

#include <algorithm>
#include <cstdlib>
#include <unordered_set>

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace ck {
namespace {

constexpr unsigned kParseFlags = rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag |
                                 rapidjson::kParseIterativeFlag;

// Builds the tree from RapidJSON's SAX events; each handler returns false to stop at an error.
class TreeBuilder {
 public:
  explicit TreeBuilder(unsigned max_depth) : max_depth_(max_depth) {}

  bool Null() { return Add(JsonValue{}); }
  bool Bool(bool b) { return Add(JsonValue{JsonValue::Kind::kBoolean, b ? "true" : "false", {}, {}}); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) { return Add(JsonValue{JsonValue::Kind::kNumber, std::string(s, n), {}, {}}); }
  bool String(const char* s, rapidjson::SizeType n, bool) { return Add(JsonValue{JsonValue::Kind::kString, std::string(s, n), {}, {}}); }
  bool StartObject() { return Open(JsonValue::Kind::kObject); }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    std::string_view key(s, n);
    Frame& frame = stack_.back();
    if (!frame.keys.emplace(key).second) return Fail("the key \"" + std::string(key.substr(0, 64)) + "\" appears twice in one object");
    frame.value->members.emplace_back(std::string(key), JsonValue{});
    return true;
  }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool StartArray() { return Open(JsonValue::Kind::kArray); }
  bool EndArray(rapidjson::SizeType) { return Close(); }
  // Unused with kParseNumbersAsStringsFlag, required by the handler concept.
  bool Int(int) { return false; }
  bool Uint(unsigned) { return false; }
  bool Int64(std::int64_t) { return false; }
  bool Uint64(std::uint64_t) { return false; }
  bool Double(double) { return false; }

  JsonValue TakeRoot() { return std::move(root_); }
  const std::string& error() const { return error_; }

 private:
  // Where the next value goes: the root, the last member of an object, or a new array item.
  JsonValue* Slot() {
    if (stack_.empty()) return &root_;
    JsonValue& parent = *stack_.back().value;
    if (parent.is_array()) return &parent.items.emplace_back();
    return &parent.members.back().second;
  }
  bool Add(JsonValue value) {
    *Slot() = std::move(value);
    return true;
  }
  bool Open(JsonValue::Kind kind) {
    if (stack_.size() >= max_depth_) return Fail("JSON nested deeper than " + std::to_string(max_depth_) + " levels");
    JsonValue* value = Slot();
    value->kind = kind;
    stack_.push_back({value, {}});
    return true;
  }
  bool Close() {
    stack_.pop_back();
    return true;
  }
  bool Fail(std::string message) {
    error_ = std::move(message);
    return false;
  }

  const unsigned max_depth_;
  JsonValue root_;
  // The open arrays and objects, with an object's keys so far. Pointers stay valid: only the
  // innermost one's children grow.
  struct Frame {
    JsonValue* value;
    std::unordered_set<std::string> keys;
  };
  std::vector<Frame> stack_;
  std::string error_;
};

void Write(const JsonValue& value, rapidjson::Writer<rapidjson::StringBuffer>& writer) {
  switch (value.kind) {
    case JsonValue::Kind::kNull: writer.Null(); break;
    case JsonValue::Kind::kBoolean: writer.Bool(value.text == "true"); break;
    case JsonValue::Kind::kNumber: writer.RawValue(value.text.data(), value.text.size(), rapidjson::kNumberType); break;
    case JsonValue::Kind::kString:
      writer.String(value.text.data(), static_cast<rapidjson::SizeType>(value.text.size()));
      break;
    case JsonValue::Kind::kArray:
      writer.StartArray();
      for (const JsonValue& item : value.items) Write(item, writer);
      writer.EndArray();
      break;
    case JsonValue::Kind::kObject:
      writer.StartObject();
      for (const auto& [name, member] : value.members) {
        writer.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
        Write(member, writer);
      }
      writer.EndObject();
      break;
  }
}

}  // namespace

const JsonValue* JsonValue::Find(std::string_view name) const {
  auto it = std::find_if(members.begin(), members.end(), [&](const auto& member) { return member.first == name; });
  return it == members.end() ? nullptr : &it->second;
}

JsonValue* JsonValue::Find(std::string_view name) {
  return const_cast<JsonValue*>(std::as_const(*this).Find(name));
}

std::size_t JsonValue::Count() const {
  std::size_t count = 1;
  for (const JsonValue& item : items) count += item.Count();
  for (const auto& member : members) count += member.second.Count();
  return count;
}

Result<JsonValue> ParseJsonValue(std::string_view json, unsigned max_depth) {
  TreeBuilder builder(max_depth);
  rapidjson::MemoryStream stream(json.data(), json.size());
  rapidjson::Reader reader;
  rapidjson::ParseResult parsed = reader.Parse<kParseFlags>(stream, builder);
  if (parsed.IsError()) {
    std::string why = builder.error().empty() ? rapidjson::GetParseError_En(parsed.Code()) : builder.error();
    return Err(Status::Invalid("not valid JSON at offset " + std::to_string(parsed.Offset()) + ": " + why));
  }
  return builder.TakeRoot();
}

std::string WriteJsonValue(const JsonValue& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  Write(value, writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

bool JsonEquals(const JsonValue& a, const JsonValue& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case JsonValue::Kind::kNull: return true;
    case JsonValue::Kind::kNumber:
      return a.text == b.text || std::strtold(a.text.c_str(), nullptr) == std::strtold(b.text.c_str(), nullptr);
    case JsonValue::Kind::kBoolean:
    case JsonValue::Kind::kString: return a.text == b.text;
    case JsonValue::Kind::kArray:
      return std::equal(a.items.begin(), a.items.end(), b.items.begin(), b.items.end(), JsonEquals);
    case JsonValue::Kind::kObject:
      if (a.members.size() != b.members.size()) return false;
      for (const auto& [name, member] : a.members) {
        const JsonValue* other = b.Find(name);
        if (other == nullptr || !JsonEquals(member, *other)) return false;
      }
      return true;
  }
  return false;
}

JsonValue JsonString(std::string_view text) { return {JsonValue::Kind::kString, std::string(text), {}, {}}; }
JsonValue JsonNumber(std::int64_t value) { return {JsonValue::Kind::kNumber, std::to_string(value), {}, {}}; }
JsonValue JsonBoolean(bool value) { return {JsonValue::Kind::kBoolean, value ? "true" : "false", {}, {}}; }
JsonValue JsonObject() { return {JsonValue::Kind::kObject, {}, {}, {}}; }

}  // namespace ck
