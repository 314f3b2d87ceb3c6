#include "util/json_patch.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <vector>

namespace ck {
namespace {

// A JSON Pointer split into its unescaped reference tokens. Errors: kInvalid.
Result<std::vector<std::string>> ParsePointer(const std::string& pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  if (pointer.front() != '/') return Err(Status::Invalid("a JSON Pointer is empty or starts with '/'"));
  std::size_t start = 1;
  while (true) {
    std::size_t end = pointer.find('/', start);
    std::string_view raw = std::string_view(pointer).substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::string token;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '~') {
        token += raw[i];
        continue;
      }
      if (i + 1 == raw.size() || (raw[i + 1] != '0' && raw[i + 1] != '1')) {
        return Err(Status::Invalid("'~' in a JSON Pointer must be followed by 0 or 1"));
      }
      token += raw[++i] == '0' ? '~' : '/';
    }
    tokens.push_back(std::move(token));
    if (end == std::string::npos) return tokens;
    start = end + 1;
  }
}

// An array index token: "0" or digits without a leading zero. nullopt otherwise.
std::optional<std::size_t> ArrayIndex(const std::string& token) {
  if (token.empty() || (token.size() > 1 && token[0] == '0')) return std::nullopt;
  std::size_t index = 0;
  auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), index);
  if (error != std::errc() || end != token.data() + token.size()) return std::nullopt;
  return index;
}

class Patcher {
 public:
  Patcher(JsonValue& document, const JsonPatchOptions& options) : document_(document), options_(options), values_(document.Count()) {}

  Status Apply(const JsonValue& operation) {
    if (!operation.is_object()) return Status::Invalid("an operation must be a JSON object");
    CK_ASSIGN_OR_RETURN(const std::string* op_text, Text(operation, "op"));
    const std::string& op = *op_text;
    CK_ASSIGN_OR_RETURN(const std::string* path_text, Text(operation, "path"));
    CK_ASSIGN_OR_RETURN(std::vector<std::string> path, ParsePointer(*path_text));
    if (op == "add" || op == "replace" || op == "test") {
      const JsonValue* value = operation.Find("value");
      if (value == nullptr) return Status::Invalid("'" + op + "' needs a 'value'");
      if (op == "test") {
        CK_ASSIGN_OR_RETURN(JsonValue * target, Locate(path));
        if (!JsonEquals(*target, *value)) return Status::Unprocessable("test failed: the value there is not the one given");
        return Status::Ok();
      }
      if (op == "replace") {
        auto target = Locate(path);
        if (!target) return target.error();
      }
      return Add(path, *value);
    }
    if (op == "remove") {
      auto removed = Remove(path);
      if (!removed) return removed.error();
      values_ -= removed->Count();
      return Status::Ok();
    }
    if (op == "move" || op == "copy") {
      CK_ASSIGN_OR_RETURN(const std::string* from_text, Text(operation, "from"));
      CK_ASSIGN_OR_RETURN(std::vector<std::string> from, ParsePointer(*from_text));
      if (op == "copy") {
        CK_ASSIGN_OR_RETURN(JsonValue * source, Locate(from));
        JsonValue copy = *source;
        return Add(path, copy);
      }
      if (path.size() > from.size() && std::equal(from.begin(), from.end(), path.begin())) {
        return Status::Invalid("'move' cannot move a value into one of its own children");
      }
      if (path == from) {
        auto target = Locate(from);
        return target ? Status::Ok() : target.error();
      }
      CK_ASSIGN_OR_RETURN(JsonValue moved, Remove(from));
      values_ -= moved.Count();
      return Add(path, moved);
    }
    return Status::Invalid("unknown op '" + op.substr(0, 32) + "' (add, remove, replace, move, copy or test)");
  }

 private:
  static Result<const std::string*> Text(const JsonValue& operation, std::string_view name) {
    const JsonValue* value = operation.Find(name);
    if (value == nullptr || value->kind != JsonValue::Kind::kString) {
      return Err(Status::Invalid("an operation needs '" + std::string(name) + "' as a string"));
    }
    return &value->text;
  }

  // The value a pointer names. Errors: kUnprocessable (nothing there).
  Result<JsonValue*> Locate(const std::vector<std::string>& tokens, std::size_t count) {
    JsonValue* at = &document_;
    for (std::size_t i = 0; i < count; ++i) {
      const std::string& token = tokens[i];
      if (at->is_object()) {
        at = at->Find(token);
      } else if (at->is_array()) {
        std::optional<std::size_t> index = ArrayIndex(token);
        at = index && *index < at->items.size() ? &at->items[*index] : nullptr;
      } else {
        at = nullptr;
      }
      if (at == nullptr) return Err(Status::Unprocessable("nothing at " + Pointer(tokens, i + 1)));
    }
    return at;
  }
  Result<JsonValue*> Locate(const std::vector<std::string>& tokens) { return Locate(tokens, tokens.size()); }

  Status Add(const std::vector<std::string>& path, const JsonValue& value) {
    values_ += value.Count();
    if (values_ > options_.max_values) {
      return Status::Unprocessable("the patched document would hold more than " + std::to_string(options_.max_values) + " values");
    }
    if (path.empty()) {
      document_ = value;
      return Status::Ok();
    }
    CK_ASSIGN_OR_RETURN(JsonValue * parent, Locate(path, path.size() - 1));
    const std::string& last = path.back();
    if (parent->is_object()) {
      if (JsonValue* existing = parent->Find(last)) {
        *existing = value;
      } else {
        parent->members.emplace_back(last, value);
      }
      return Status::Ok();
    }
    if (parent->is_array()) {
      if (last == "-") {
        parent->items.push_back(value);
        return Status::Ok();
      }
      std::optional<std::size_t> index = ArrayIndex(last);
      if (!index || *index > parent->items.size()) return Status::Unprocessable("no array position " + Pointer(path, path.size()));
      parent->items.insert(parent->items.begin() + static_cast<std::ptrdiff_t>(*index), value);
      return Status::Ok();
    }
    return Status::Unprocessable("nothing can be added inside the value at " + Pointer(path, path.size() - 1));
  }

  // Takes the value at `path` out of the document. Errors: kUnprocessable (nothing there).
  Result<JsonValue> Remove(const std::vector<std::string>& path) {
    if (path.empty()) return Err(Status::Unprocessable("the whole document cannot be removed"));
    CK_ASSIGN_OR_RETURN(JsonValue * parent, Locate(path, path.size() - 1));
    const std::string& last = path.back();
    JsonValue removed;
    if (parent->is_object()) {
      auto it = std::find_if(parent->members.begin(), parent->members.end(), [&](const auto& m) { return m.first == last; });
      if (it == parent->members.end()) return Err(Status::Unprocessable("nothing at " + Pointer(path, path.size())));
      removed = std::move(it->second);
      parent->members.erase(it);
      return removed;
    }
    std::optional<std::size_t> index = parent->is_array() ? ArrayIndex(last) : std::nullopt;
    if (!index || *index >= parent->items.size()) return Err(Status::Unprocessable("nothing at " + Pointer(path, path.size())));
    removed = std::move(parent->items[*index]);
    parent->items.erase(parent->items.begin() + static_cast<std::ptrdiff_t>(*index));
    return removed;
  }

  // The first `count` tokens as a pointer again, for messages.
  static std::string Pointer(const std::vector<std::string>& tokens, std::size_t count) {
    std::string pointer;
    for (std::size_t i = 0; i < count && pointer.size() < 200; ++i) {
      pointer += '/';
      for (char c : tokens[i]) pointer += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    }
    return pointer.empty() ? "the document root" : pointer;
  }

  JsonValue& document_;
  const JsonPatchOptions& options_;
  std::size_t values_;
};

}  // namespace

Result<JsonValue> ApplyJsonPatch(JsonValue document, const JsonValue& patch, const JsonPatchOptions& options) {
  if (!patch.is_array()) return Err(Status::Invalid("a JSON Patch is a JSON array of operations"));
  Patcher patcher(document, options);
  for (std::size_t i = 0; i < patch.items.size(); ++i) {
    if (Status applied = patcher.Apply(patch.items[i]); !applied.ok()) {
      const JsonValue* path = patch.items[i].is_object() ? patch.items[i].Find("path") : nullptr;
      std::string where = "operation " + std::to_string(i);
      if (path != nullptr && path->kind == JsonValue::Kind::kString) where += " (" + path->text.substr(0, 200) + ")";
      return Err(std::move(applied).WithContext(where));
    }
  }
  return document;
}

}  // namespace ck
