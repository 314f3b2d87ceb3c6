// The FHIRPath 2.0 (FHIR R5) additions to the function library, which the official R4 suite
// also tests: type(), sort(), encode()/decode(), escape()/unescape(), matchesFull(),
// lowBoundary()/highBoundary(), precision(), comparable().
#include <algorithm>
#include <cmath>
#include <chrono>
#include <span>

#include "fhirpath/function_library.h"

namespace ck::fhirpath {
namespace {

constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Standard base64, or its URL-safe alphabet (- and _), with padding.
std::string Base64Encode(std::string_view in, bool url) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::size_t remaining = std::min<std::size_t>(3, in.size() - i);
    std::uint32_t n = 0;
    for (std::size_t k = 0; k < 3; ++k) n = (n << 8) | (k < remaining ? static_cast<unsigned char>(in[i + k]) : 0u);
    for (std::size_t k = 0; k < 4; ++k) out += k <= remaining ? kBase64[(n >> (18 - 6 * k)) & 0x3F] : '=';
  }
  if (url) {
    std::replace(out.begin(), out.end(), '+', '-');
    std::replace(out.begin(), out.end(), '/', '_');
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string text, bool url) {
  if (url) {
    std::replace(text.begin(), text.end(), '-', '+');
    std::replace(text.begin(), text.end(), '_', '/');
  }
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    std::size_t v = kBase64.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

Result<Collection> Encode(const FunctionCall& f, bool decode) {
  CK_ASSIGN_OR_RETURN(std::optional<Value> v, f.InputValue());
  CK_ASSIGN_OR_RETURN(std::optional<std::string> format, StringArg(f, 0));
  if (!v || !format || v->kind != ValueKind::kString) return Collection{};
  static constexpr char kHex[] = "0123456789abcdef";
  if (*format == "hex") {
    std::string out;
    if (!decode) {
      for (unsigned char c : v->text) out += std::string{kHex[c >> 4], kHex[c & 0xF]};
      return Single(Value::String(out));
    }
    if (v->text.size() % 2 != 0) return Collection{};
    for (std::size_t i = 0; i < v->text.size(); i += 2) {
      auto byte = ToInt64(std::string_view(v->text).substr(i, 2), 16);
      if (!byte || *byte < 0) return Collection{};  // not hex
      out += static_cast<char>(*byte);
    }
    return Single(Value::String(out));
  }
  if (*format == "base64" || *format == "urlbase64") {
    bool url = *format == "urlbase64";
    if (!decode) return Single(Value::String(Base64Encode(v->text, url)));
    auto decoded = Base64Decode(v->text, url);
    return decoded ? Single(Value::String(*decoded)) : Collection{};
  }
  return Err(EvalError(f.expr.name + "() does not know the format '" + *format + "'"));
}

Result<Collection> Escape(const FunctionCall& f, bool unescape) {
  CK_ASSIGN_OR_RETURN(std::optional<Value> v, f.InputValue());
  CK_ASSIGN_OR_RETURN(std::optional<std::string> format, StringArg(f, 0));
  if (!v || !format || v->kind != ValueKind::kString) return Collection{};
  static const std::pair<std::string_view, std::string_view> kHtml[] = {
      {"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}, {"'", "&#39;"}};
  static const std::pair<std::string_view, std::string_view> kJson[] = {{"\\", "\\\\"}, {"\"", "\\\""}};
  std::span<const std::pair<std::string_view, std::string_view>> table;
  if (*format == "html") table = kHtml;
  else if (*format == "json") table = kJson;
  else return Err(EvalError(f.expr.name + "() does not know the format '" + *format + "'"));
  std::string out;
  const std::string& s = v->text;
  for (std::size_t i = 0; i < s.size();) {
    bool replaced = false;
    for (const auto& [plain, escaped] : table) {
      std::string_view from = unescape ? escaped : plain;
      if (std::string_view(s).substr(i, from.size()) == from) {
        out += unescape ? plain : escaped;
        i += from.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out += s[i++];
  }
  return Single(Value::String(out));
}

// Digits of precision of a temporal as FHIRPath counts them (2014 -> 4, ...T10:30:00.000 -> 17).
int TemporalDigits(const Temporal& t, ValueKind kind) {
  static const int kDate[] = {4, 6, 8, 10, 12, 14, 17};
  static const int kTime[] = {0, 0, 0, 2, 4, 6, 9};
  return kind == ValueKind::kTime ? kTime[t.precision] : kDate[t.precision];
}

int PrecisionFromDigits(int digits, ValueKind kind) {
  static const int kDate[] = {4, 6, 8, 10, 12, 14, 17};
  static const int kTime[] = {2, 4, 6, 9};
  if (kind == ValueKind::kTime) {
    for (int i = 0; i < 4; ++i) {
      if (kTime[i] == digits) return i + 3;
    }
    return -1;
  }
  for (int i = 0; i < 7; ++i) {
    if (kDate[i] == digits) return i;
  }
  return -1;
}

// lowBoundary() / highBoundary(): the least or greatest value the input could stand for.
Function Boundary(bool high) {
  return [high](const FunctionCall& f) -> Result<Collection> {
    CK_ASSIGN_OR_RETURN(std::optional<Value> v, f.InputValue());
    if (!v) return Collection{};
    std::optional<std::int64_t> precision;
    if (f.arity() > 0) {
      CK_ASSIGN_OR_RETURN(precision, IntegerArg(f, 0));
    }
    if (v->kind == ValueKind::kInteger || v->kind == ValueKind::kDecimal || v->kind == ValueKind::kQuantity) {
      int digits = v->kind == ValueKind::kInteger ? 0 : v->decimal_places;
      int places = static_cast<int>(precision.value_or(8));
      if (places < 0 || places > 31) return Collection{};
      double value = v->kind == ValueKind::kInteger ? static_cast<double>(v->integer) : v->decimal;
      double half = 0.5 * std::pow(10.0, -digits);
      double bound = high ? value + half : value - half;
      double scale = std::pow(10.0, places);
      double rounded = high ? std::ceil(bound * scale - 1e-9) / scale : std::floor(bound * scale + 1e-9) / scale;
      if (v->kind == ValueKind::kQuantity) return Single(Value::Quantity(rounded, places, v->text));
      return Single(Value::Decimal(rounded, places));
    }
    if (v->kind == ValueKind::kDate || v->kind == ValueKind::kDateTime || v->kind == ValueKind::kTime) {
      Value out = *v;
      Temporal& t = out.temporal;
      int wanted = PrecisionFromDigits(static_cast<int>(precision.value_or(v->kind == ValueKind::kTime ? 9 : 17)), v->kind);
      if (wanted < 0) return Collection{};
      // FHIR has no hour-only dateTime: @2014-01-01T08 stands for 08:00, as the official suite
      // says (HighBoundaryDateTimeMillisecond1).
      if (v->kind == ValueKind::kDateTime && t.precision == 3) t.precision = 4;
      if (t.precision < 1) t.month = high ? 12 : 1;
      if (t.precision < 2) t.day = high ? static_cast<int>(static_cast<unsigned>(std::chrono::year_month_day_last(
                                          std::chrono::year(t.year), std::chrono::month_day_last(std::chrono::month(t.month))).day())) : 1;
      if (t.precision < 3) t.hour = high ? 23 : 0;
      if (t.precision < 4) t.minute = high ? 59 : 0;
      if (t.precision < 5) t.second = high ? 59 : 0;
      if (t.precision < 6) t.millisecond = high ? 999 : 0;
      // An unzoned date-time could be in any zone: the widest bounds are +14:00 and -12:00.
      if (v->kind == ValueKind::kDateTime && !t.zone_minutes && wanted >= 3) t.zone_minutes = high ? -12 * 60 : 14 * 60;
      t.precision = wanted;
      out.text = FormatTemporal(t, out.kind);
      return Single(out);
    }
    return Err(EvalError(f.expr.name + "() needs a number, a quantity or a date/time"));
  };
}

Result<Collection> Precision(const FunctionCall& f) {
  CK_ASSIGN_OR_RETURN(std::optional<Value> v, f.InputValue());
  if (!v) return Collection{};
  switch (v->kind) {
    case ValueKind::kDecimal: return Single(Value::Integer(v->decimal_places));
    case ValueKind::kInteger: return Single(Value::Integer(0));
    case ValueKind::kDate:
    case ValueKind::kDateTime:
    case ValueKind::kTime: return Single(Value::Integer(TemporalDigits(v->temporal, v->kind)));
    default: return Err(EvalError("precision() needs a number or a date/time"));
  }
}

Result<Collection> Sort(const FunctionCall& f) {
  // Each argument is a key; a leading '-' sorts that key descending.
  std::vector<std::pair<Value, std::vector<Collection>>> rows;
  for (std::size_t i = 0; i < f.input.size(); ++i) {
    std::vector<Collection> keys;
    for (std::size_t k = 0; k < f.arity(); ++k) {
      const Expr& key = f.argument(k);
      const Expr& inner = key.kind == Expr::Kind::kUnary && key.name == "-" ? *key.children[0] : key;
      Scope scope{&f.input[i], static_cast<std::int64_t>(i), nullptr};
      CK_ASSIGN_OR_RETURN(Collection value, f.evaluator.Eval(inner, Single(f.input[i]), scope));
      keys.push_back(std::move(value));
    }
    rows.emplace_back(f.input[i], std::move(keys));
  }
  bool error = false;
  auto order = [&](const Collection& a, const Collection& b) -> int {
    // An empty key sorts after every value (so first when descending), as the suite expects.
    if (a.empty() || b.empty()) return a.empty() == b.empty() ? 0 : (a.empty() ? 1 : -1);
    return Compare(a[0], b[0], error).value_or(0);
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const auto& x, const auto& y) {
    if (f.arity() == 0) return order(Single(x.first), Single(y.first)) < 0;
    for (std::size_t k = 0; k < f.arity(); ++k) {
      const Expr& key = f.argument(k);
      bool descending = key.kind == Expr::Kind::kUnary && key.name == "-";
      int c = order(x.second[k], y.second[k]);
      if (c != 0) return descending ? c > 0 : c < 0;
    }
    return false;
  });
  if (error) return Err(EvalError("sort() keys cannot be compared"));
  Collection out;
  for (auto& row : rows) out.push_back(std::move(row.first));
  return out;
}

Result<Collection> TypeOf(const FunctionCall& f) {
  Collection out;
  for (const Value& v : f.input) {
    Value info;
    info.kind = ValueKind::kTypeInfo;
    if (v.IsElement()) {
      info.text = "FHIR." + v.type->name;
    } else {
      static const char* kNames[] = {"", "Boolean", "Integer", "Decimal", "String", "Date", "DateTime", "Time", "Quantity", "TypeInfo"};
      info.text = std::string("System.") + kNames[static_cast<int>(v.kind)];
    }
    out.push_back(std::move(info));
  }
  return out;
}

// FHIR's additions that need services Chartkeeper does not have yet: a clear error, not a guess.
Function Unsupported(std::string why) {
  return [why](const FunctionCall& f) -> Result<Collection> {
    return Err(Status(StatusCode::kNotImplemented, f.expr.name + "() is not supported yet: " + why));
  };
}

// conformsTo(profile): decidable here for the core StructureDefinitions (a resource conforms to
// its own type's and its base types' definitions); other profiles need the validator.
Result<Collection> ConformsTo(const FunctionCall& f) {
  CK_ASSIGN_OR_RETURN(std::optional<std::string> url, StringArg(f, 0));
  if (!url) return Collection{};
  constexpr std::string_view kCore = "http://hl7.org/fhir/StructureDefinition/";
  if (!url->starts_with(kCore)) return Unsupported("only core profiles can be checked until profile validation exists")(f);
  std::string_view name = std::string_view(*url).substr(kCore.size());
  if (f.evaluator.definitions().FindType(name) == nullptr) return Err(EvalError("conformsTo(): unknown profile " + *url));
  Collection out;
  for (const Value& item : f.input) {
    bool conforms = false;
    if (item.IsElement()) {
      for (const fhir::TypeDefinition* t = item.type; t != nullptr; t = t->base) conforms |= t->name == name;
    }
    out.push_back(Value::Boolean(conforms));
  }
  return out;
}

// checkModifiers(url...): the input, unless an item has a modifierExtension not listed.
Result<Collection> CheckModifiers(const FunctionCall& f) {
  std::vector<std::string> understood;
  for (std::size_t i = 0; i < f.arity(); ++i) {
    CK_ASSIGN_OR_RETURN(Collection urls, f.Arg(i));
    for (const Value& u : urls) understood.push_back(u.ToString());
  }
  for (const Value& item : f.input) {
    for (const Value& extension : f.evaluator.Member(Single(item), "modifierExtension")) {
      for (const Value& url : f.evaluator.Member(Single(extension), "url")) {
        if (std::find(understood.begin(), understood.end(), url.ToString()) == understood.end()) {
          return Err(EvalError("unknown modifier extension " + url.ToString()));
        }
      }
    }
  }
  return f.input;
}

}  // namespace

void AddVersion2Functions(FunctionTable& table) {
  table["conformsTo"] = ConformsTo;
  table["checkModifiers"] = CheckModifiers;
  table["memberOf"] = Unsupported("it needs the terminology service");
  table["slice"] = Unsupported("it needs profiles");
  table["elementDefinition"] = Unsupported("it needs ElementDefinitions as resources");
  table["type"] = TypeOf;
  table["sort"] = Sort;
  table["encode"] = [](const FunctionCall& f) { return Encode(f, false); };
  table["decode"] = [](const FunctionCall& f) { return Encode(f, true); };
  table["escape"] = [](const FunctionCall& f) { return Escape(f, false); };
  table["unescape"] = [](const FunctionCall& f) { return Escape(f, true); };
  table["lowBoundary"] = Boundary(false);
  table["highBoundary"] = Boundary(true);
  table["precision"] = Precision;
  table["matchesFull"] = [](const FunctionCall& f) -> Result<Collection> {
    CK_ASSIGN_OR_RETURN(std::optional<Value> v, f.InputValue());
    CK_ASSIGN_OR_RETURN(std::optional<std::string> pattern, StringArg(f, 0));
    if (!v || !pattern || v->kind != ValueKind::kString) return Collection{};
    CK_ASSIGN_OR_RETURN(auto compiled, CompilePattern(*pattern));
    return Boolean(re2::RE2::FullMatch(v->text, *compiled));
  };
  table["comparable"] = [](const FunctionCall& f) -> Result<Collection> {
    CK_ASSIGN_OR_RETURN(std::optional<Value> v, f.InputValue());
    CK_ASSIGN_OR_RETURN(std::optional<Value> other, f.ArgValue(0));
    if (!v || !other || v->kind != ValueKind::kQuantity || other->kind != ValueKind::kQuantity) return Collection{};
    return Boolean(UnitsComparable(v->text, other->text));
  };
}

}  // namespace ck::fhirpath
