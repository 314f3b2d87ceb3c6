#include "fhir/json_writer.h"

namespace ck::fhir {
namespace {

class Writer {
 public:
  Writer(std::string& out, bool pretty) : out_(out), pretty_(pretty) {}

  void Value(const Node& node, int depth) {
    switch (node.kind) {
      case JsonKind::kObject: Object(node, depth); break;
      case JsonKind::kString: AppendJsonString(out_, node.text); break;
      case JsonKind::kNumber:
      case JsonKind::kBoolean: out_ += node.text; break;
      case JsonKind::kNull: out_ += "null"; break;
    }
  }

 private:
  void Object(const Node& node, int depth) {
    out_ += '{';
    bool first = true;
    for (const Property& property : node.properties) {
      if (!first) out_ += ',';
      first = false;
      Newline(depth + 1);
      AppendJsonString(out_, property.name);
      out_ += pretty_ ? ": " : ":";
      if (property.is_array) {
        Array(property, depth + 1);
      } else {
        Value(property.values[0], depth + 1);
      }
    }
    Newline(depth);
    out_ += '}';
  }
  void Array(const Property& property, int depth) {
    out_ += '[';
    for (std::size_t i = 0; i < property.values.size(); ++i) {
      if (i > 0) out_ += ',';
      Newline(depth + 1);
      Value(property.values[i], depth + 1);
    }
    Newline(depth);
    out_ += ']';
  }
  void Newline(int depth) {
    if (!pretty_) return;
    out_ += '\n';
    out_.append(static_cast<std::size_t>(depth) * 2, ' ');
  }

  std::string& out_;
  bool pretty_;
};

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t run_start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.substr(run_start, i - run_start));
    run_start = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
  }
  out.append(text.substr(run_start));
  out += '"';
}

std::string PrettyPrintJson(std::string_view json) {
  std::string out;
  out.reserve(json.size() * 3 / 2);
  int depth = 0;
  bool in_string = false;
  auto newline = [&] {
    out += '\n';
    out.append(static_cast<std::size_t>(depth) * 2, ' ');
  };
  for (std::size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < json.size()) {
        out += json[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; out += c; break;
      case '{':
      case '[': out += c; ++depth; newline(); break;
      case '}':
      case ']': --depth; newline(); out += c; break;
      case ',': out += c; newline(); break;
      case ':': out += ": "; break;
      case ' ':
      case '\n':
      case '\r':
      case '\t': break;
      default: out += c;
    }
  }
  return out;
}

std::string WriteJson(const Node& root, const WriteOptions& options) {
  std::string out;
  out.reserve(1024);
  Writer(out, options.pretty).Value(root, 0);
  return out;
}

}  // namespace ck::fhir
