#include "fhirpath/value.h"

#include "terminology/ucum.h"
#include "util/time.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <utility>

namespace ck::fhirpath {
namespace {


// hh[:mm[:ss[.fff]]] at `pos`; advances pos. `base` is the precision index of hours.
bool ScanClock(std::string_view text, std::size_t& pos, Temporal& t, int base) {
  if (!ParseDigits(text, pos, 2, t.hour) || t.hour > 23) return false;
  pos += 2;
  t.precision = base;
  if (pos < text.size() && text[pos] == ':') {
    if (!ParseDigits(text, pos + 1, 2, t.minute) || t.minute > 59) return false;
    pos += 3;
    t.precision = base + 1;
    if (pos < text.size() && text[pos] == ':') {
      if (!ParseDigits(text, pos + 1, 2, t.second) || t.second > 60) return false;
      pos += 3;
      t.precision = base + 2;
      if (pos < text.size() && text[pos] == '.') {
        std::size_t start = ++pos;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
        if (pos == start) return false;
        std::string fraction(text.substr(start, std::min<std::size_t>(pos - start, 3)));
        fraction.resize(3, '0');
        t.millisecond = std::stoi(fraction);
        t.precision = base + 3;
      }
    }
  }
  return true;
}

bool ScanDate(std::string_view text, std::size_t& pos, Temporal& t) {
  if (!ParseDigits(text, 0, 4, t.year)) return false;
  pos = 4;
  t.precision = 0;
  if (pos < text.size() && text[pos] == '-') {
    if (!ParseDigits(text, pos + 1, 2, t.month) || t.month < 1 || t.month > 12) return false;
    pos += 3;
    t.precision = 1;
    if (pos < text.size() && text[pos] == '-') {
      if (!ParseDigits(text, pos + 1, 2, t.day) || t.day < 1 || t.day > 31) return false;
      pos += 3;
      t.precision = 2;
    }
  }
  return true;
}

// Seconds and milliseconds compare as one precision (FHIRPath: 10:30:00 = 10:30:00.000).
int Level(int precision) { return precision >= 5 ? 5 : precision; }

// The fields of a temporal, shifted to UTC when it has a zone and a time of day.
std::array<std::int64_t, 6> Fields(const Temporal& t, bool is_time) {
  std::array<std::int64_t, 6> f = {t.year, t.month, t.day, t.hour, t.minute, t.second * 1000 + t.millisecond};
  if (is_time || !t.zone_minutes || t.precision < 3 || *t.zone_minutes == 0) return f;
  using namespace std::chrono;
  sys_days days{year(t.year) / month(t.month) / day(t.day)};
  minutes total = duration_cast<minutes>(days.time_since_epoch()) + hours(t.hour) + minutes(t.minute) - minutes(*t.zone_minutes);
  sys_days shifted_days = floor<std::chrono::days>(sys_time<minutes>(total));
  year_month_day ymd(shifted_days);
  minutes in_day = total - duration_cast<minutes>(shifted_days.time_since_epoch());
  f[0] = static_cast<int>(ymd.year());
  f[1] = static_cast<unsigned>(ymd.month());
  f[2] = static_cast<unsigned>(ymd.day());
  f[3] = in_day.count() / 60;
  f[4] = in_day.count() % 60;
  return f;
}

// Compares two temporals of the same kind: negative/zero/positive, or nullopt when they agree
// up to the lower precision but the precisions differ.
std::optional<int> CompareTemporal(const Temporal& a, const Temporal& b, bool is_time) {
  auto fa = Fields(a, is_time);
  auto fb = Fields(b, is_time);
  int offset = is_time ? 3 : 0;
  int la = Level(a.precision);
  int lb = Level(b.precision);
  // With a time of day, a zoned and an unzoned value cannot be ordered.
  if (std::min(la, lb) >= 3 && a.zone_minutes.has_value() != b.zone_minutes.has_value()) return std::nullopt;
  for (int i = offset; i <= std::min(la, lb); ++i) {
    if (fa[i] != fb[i]) return fa[i] < fb[i] ? -1 : 1;
  }
  if (la != lb) return std::nullopt;
  return 0;
}

bool NearlyEqual(double a, double b) { return std::fabs(a - b) <= 1e-12 * std::max({1.0, std::fabs(a), std::fabs(b)}); }

std::string Normalize(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

int DecimalPlaces(std::string_view text) {
  std::size_t dot = text.find('.');
  if (dot == std::string_view::npos) return 0;
  std::size_t end = text.find_first_of("eE", dot);
  return static_cast<int>((end == std::string_view::npos ? text.size() : end) - dot - 1);
}

}  // namespace

std::string UcumCode(const std::string& unit) {
  static const std::pair<std::string_view, std::string_view> kCalendar[] = {
      {"week", "wk"}, {"weeks", "wk"}, {"day", "d"}, {"days", "d"}, {"hour", "h"}, {"hours", "h"},
      {"minute", "min"}, {"minutes", "min"}, {"second", "s"}, {"seconds", "s"}, {"millisecond", "ms"},
      {"milliseconds", "ms"}, {"year", "year"}, {"years", "year"}, {"month", "month"}, {"months", "month"},
  };
  if (unit.empty()) return "1";
  for (const auto& [word, code] : kCalendar) {
    if (unit == word) return std::string(code);
  }
  return unit;
}

std::optional<std::pair<double, double>> InFirstUnit(const Value& a, const Value& b) {
  std::string ua = UcumCode(a.text);
  std::string ub = UcumCode(b.text);
  if (ua == ub) return std::pair(a.decimal, b.decimal);
  auto fa = terminology::ParseUcum(ua);
  auto fb = terminology::ParseUcum(ub);
  if (!fa || !fb || !terminology::Commensurable(*fb, *fa)) return std::nullopt;
  return std::pair(a.decimal, terminology::ConvertUcum(b.decimal, *fb, *fa));
}

bool IsCalendarKeyword(std::string_view unit) {
  static constexpr std::string_view kKeywords[] = {"year", "years", "month", "months", "week", "weeks", "day", "days",
                                                   "hour", "hours", "minute", "minutes", "second", "seconds",
                                                   "millisecond", "milliseconds"};
  return std::find(std::begin(kKeywords), std::end(kKeywords), unit) != std::end(kKeywords);
}

Value Value::Boolean(bool b) {
  Value v;
  v.kind = ValueKind::kBoolean;
  v.boolean = b;
  return v;
}
Value Value::Integer(std::int64_t i) {
  Value v;
  v.kind = ValueKind::kInteger;
  v.integer = i;
  return v;
}
Value Value::Decimal(double d, int places) {
  Value v;
  v.kind = ValueKind::kDecimal;
  v.decimal = d;
  v.decimal_places = places;
  return v;
}
Value Value::String(std::string s) {
  Value v;
  v.kind = ValueKind::kString;
  v.text = std::move(s);
  return v;
}
Value Value::Quantity(double value, int places, std::string unit) {
  Value v;
  v.kind = ValueKind::kQuantity;
  v.decimal = value;
  v.decimal_places = places;
  v.text = std::move(unit);
  return v;
}
Value Value::Element(const fhir::Node* node, const fhir::Node* extension, const fhir::TypeDefinition* type) {
  Value v;
  v.kind = ValueKind::kElement;
  v.node = node;
  v.extension = extension;
  v.type = type;
  return v;
}

bool UnitsComparable(const std::string& a, const std::string& b) {
  return InFirstUnit(Value::Quantity(1, 0, a), Value::Quantity(1, 0, b)).has_value();
}

std::optional<double> ToDouble(std::string_view text) {
  std::string copy(text);  // strtod needs a terminated string
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size() || errno == ERANGE || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<std::int64_t> ToInt64(std::string_view text, int base) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string FormatTemporal(const Temporal& t, ValueKind kind) {
  char buffer[64];
  if (kind == ValueKind::kTime) {
    std::snprintf(buffer, sizeof buffer, "%02d:%02d:%02d.%03d", t.hour, t.minute, t.second, t.millisecond);
    static const int kLengths[] = {0, 0, 0, 2, 5, 8, 12};
    return std::string(buffer).substr(0, kLengths[std::clamp(t.precision, 3, 6)]);
  }
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03d", t.year, t.month, t.day, t.hour, t.minute, t.second,
                t.millisecond);
  static const int kLengths[] = {4, 7, 10, 13, 16, 19, 23};
  std::string out = std::string(buffer).substr(0, kLengths[std::clamp(t.precision, 0, 6)]);
  if (kind == ValueKind::kDateTime && t.zone_minutes && t.precision >= 3) {
    int z = *t.zone_minutes;
    if (z == 0) {
      out += "Z";
    } else {
      std::snprintf(buffer, sizeof buffer, "%c%02d:%02d", z < 0 ? '-' : '+', std::abs(z) / 60, std::abs(z) % 60);
      out += buffer;
    }
  }
  return out;
}

std::optional<Temporal> ParseDate(std::string_view text) {
  Temporal t;
  std::size_t pos = 0;
  if (!ScanDate(text, pos, t) || pos != text.size()) return std::nullopt;
  return t;
}

std::optional<Temporal> ParseDateTime(std::string_view text) {
  Temporal t;
  std::size_t pos = 0;
  if (!ScanDate(text, pos, t)) return std::nullopt;
  if (pos < text.size() && text[pos] == 'T') {
    ++pos;
    if (pos < text.size() && !ScanClock(text, pos, t, 3)) return std::nullopt;
  }
  if (pos < text.size()) {
    if (text[pos] == 'Z') {
      t.zone_minutes = 0;
      ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
      int h = 0, m = 0;
      if (!ParseDigits(text, pos + 1, 2, h) || pos + 3 >= text.size() || text[pos + 3] != ':' || !ParseDigits(text, pos + 4, 2, m)) {
        return std::nullopt;
      }
      t.zone_minutes = (h * 60 + m) * (text[pos] == '-' ? -1 : 1);
      pos += 6;
    }
  }
  if (pos != text.size()) return std::nullopt;
  return t;
}

std::optional<Temporal> ParseTime(std::string_view text) {
  Temporal t;
  std::size_t pos = 0;
  if (!ScanClock(text, pos, t, 3) || pos != text.size()) return std::nullopt;
  return t;
}

std::optional<Value> Value::ToSystem() const {
  if (kind != ValueKind::kElement) return *this;
  // A FHIR Quantity (or Age, Duration, ...) is a System Quantity: its value with its UCUM code
  // (or its unit when it has no code).
  if (node != nullptr && type != nullptr && !type->IsPrimitive() && node->kind == fhir::JsonKind::kObject) {
    bool is_quantity = false;
    for (const fhir::TypeDefinition* t = type; t != nullptr; t = t->base) is_quantity |= t->name == "Quantity";
    std::string_view number = node->TextOf("value");
    if (!is_quantity || number.empty()) return std::nullopt;
    std::string_view unit = node->TextOf("code");
    if (unit.empty()) unit = node->TextOf("unit");
    auto value = ToDouble(number);
    if (!value) return std::nullopt;
    return Quantity(*value, DecimalPlaces(number), std::string(unit));
  }
  if (node == nullptr || type == nullptr || !type->IsPrimitive() || node->kind == fhir::JsonKind::kNull ||
      node->kind == fhir::JsonKind::kObject) {
    return std::nullopt;
  }
  const std::string& name = type->name;
  const std::string& lexical = node->text;
  if (name == "boolean") return Boolean(lexical == "true");
  if (name == "integer" || name == "unsignedInt" || name == "positiveInt") {
    auto value = ToInt64(lexical);
    return value ? std::optional(Integer(*value)) : std::nullopt;
  }
  if (name == "decimal") {
    auto value = ToDouble(lexical);
    return value ? std::optional(Decimal(*value, DecimalPlaces(lexical))) : std::nullopt;
  }
  Value v;
  v.text = lexical;
  if (name == "date") {
    auto t = ParseDate(lexical);
    if (!t) return String(lexical);
    v.kind = ValueKind::kDate;
    v.temporal = *t;
    return v;
  }
  if (name == "dateTime" || name == "instant") {
    auto t = ParseDateTime(lexical);
    if (!t) return String(lexical);
    v.kind = ValueKind::kDateTime;
    v.temporal = *t;
    return v;
  }
  if (name == "time") {
    auto t = ParseTime(lexical);
    if (!t) return String(lexical);
    v.kind = ValueKind::kTime;
    v.temporal = *t;
    return v;
  }
  return String(lexical);
}

std::string Value::ToString() const {
  char buffer[64];
  switch (kind) {
    case ValueKind::kBoolean: return boolean ? "true" : "false";
    case ValueKind::kInteger: return std::to_string(integer);
    case ValueKind::kDecimal:
      std::snprintf(buffer, sizeof buffer, "%.*f", std::min(decimal_places, 17), decimal);
      return buffer;
    case ValueKind::kString: return text;
    case ValueKind::kDate:
    case ValueKind::kDateTime:
    case ValueKind::kTime: return text;
    case ValueKind::kQuantity: {
      std::snprintf(buffer, sizeof buffer, "%.*f", std::min(decimal_places, 17), decimal);
      return std::string(buffer) + (IsCalendarKeyword(text) ? " " + text : " '" + text + "'");  // keywords unquoted
    }
    case ValueKind::kElement: {
      auto system = ToSystem();
      return system ? system->ToString() : "";
    }
    case ValueKind::kTypeInfo: return text;
  }
  return "";
}

// Member-wise equality of two JSON trees (FHIRPath: complex values are equal when all their
// children are), members in any order.
bool NodesEqual(const fhir::Node* a, const fhir::Node* b) {
  if (a == b) return true;
  if (a == nullptr || b == nullptr || a->kind != b->kind) return false;
  if (a->kind != fhir::JsonKind::kObject) return a->text == b->text;
  if (a->properties.size() != b->properties.size()) return false;
  for (const fhir::Property& p : a->properties) {
    const fhir::Property* q = b->Find(p.name);
    if (q == nullptr || q->values.size() != p.values.size()) return false;
    for (std::size_t i = 0; i < p.values.size(); ++i) {
      if (!NodesEqual(&p.values[i], &q->values[i])) return false;
    }
  }
  return true;
}

std::optional<bool> Equal(const Value& a_in, const Value& b_in) {
  if (a_in.IsElement() && b_in.IsElement() && !a_in.type->IsPrimitive() && !b_in.type->IsPrimitive()) {
    return NodesEqual(a_in.node, b_in.node) && NodesEqual(a_in.extension, b_in.extension);
  }
  auto a = a_in.ToSystem();
  auto b = b_in.ToSystem();
  if (!a || !b) return false;
  using K = ValueKind;
  auto numeric = [](const Value& v) { return v.kind == K::kInteger || v.kind == K::kDecimal; };
  if (numeric(*a) && numeric(*b)) {
    double x = a->kind == K::kInteger ? static_cast<double>(a->integer) : a->decimal;
    double y = b->kind == K::kInteger ? static_cast<double>(b->integer) : b->decimal;
    return NearlyEqual(x, y);
  }
  auto temporal = [](const Value& v) { return v.kind == K::kDate || v.kind == K::kDateTime; };
  if (temporal(*a) && temporal(*b)) {
    auto c = CompareTemporal(a->temporal, b->temporal, false);
    if (!c) return std::nullopt;
    return *c == 0;
  }
  if (a->kind != b->kind) return false;
  switch (a->kind) {
    case K::kBoolean: return a->boolean == b->boolean;
    case K::kString: return a->text == b->text;
    case K::kTime: {
      auto c = CompareTemporal(a->temporal, b->temporal, true);
      if (!c) return std::nullopt;
      return *c == 0;
    }
    case K::kQuantity: {
      auto values = InFirstUnit(*a, *b);
      if (!values) return std::nullopt;  // units that cannot be compared: empty
      return NearlyEqual(values->first, values->second);
    }
    default: return false;
  }
}

bool Equivalent(const Value& a_in, const Value& b_in) {
  auto a = a_in.ToSystem();
  auto b = b_in.ToSystem();
  if (!a || !b) return a_in.IsElement() && b_in.IsElement() && a_in.node == b_in.node;
  using K = ValueKind;
  auto numeric = [](const Value& v) { return v.kind == K::kInteger || v.kind == K::kDecimal; };
  if (numeric(*a) && numeric(*b)) {
    // Decimals are equivalent when equal at the precision of the least precise one.
    int places = std::min(a->kind == K::kInteger ? 0 : a->decimal_places, b->kind == K::kInteger ? 0 : b->decimal_places);
    double x = a->kind == K::kInteger ? static_cast<double>(a->integer) : a->decimal;
    double y = b->kind == K::kInteger ? static_cast<double>(b->integer) : b->decimal;
    double scale = std::pow(10.0, places);
    return std::round(x * scale) == std::round(y * scale);
  }
  if (a->kind == K::kString && b->kind == K::kString) return Normalize(a->text) == Normalize(b->text);
  if (a->kind == K::kQuantity && b->kind == K::kQuantity) {
    // Equal at the precision of the less precise value, in the first one's unit.
    auto values = InFirstUnit(*a, *b);
    if (!values) return false;
    double scale = std::pow(10.0, std::min(a->decimal_places, b->decimal_places));
    return std::round(values->first * scale) == std::round(values->second * scale);
  }
  if ((a->kind == K::kDate || a->kind == K::kDateTime || a->kind == K::kTime) && a->kind == b->kind) {
    auto c = CompareTemporal(a->temporal, b->temporal, a->kind == K::kTime);
    return c && *c == 0;
  }
  auto equal = Equal(*a, *b);
  return equal.value_or(false);
}

std::optional<int> Compare(const Value& a_in, const Value& b_in, bool& error) {
  auto a = a_in.ToSystem();
  auto b = b_in.ToSystem();
  if (!a || !b) {
    error = true;
    return std::nullopt;
  }
  using K = ValueKind;
  auto numeric = [](const Value& v) { return v.kind == K::kInteger || v.kind == K::kDecimal; };
  if (numeric(*a) && numeric(*b)) {
    double x = a->kind == K::kInteger ? static_cast<double>(a->integer) : a->decimal;
    double y = b->kind == K::kInteger ? static_cast<double>(b->integer) : b->decimal;
    return NearlyEqual(x, y) ? 0 : (x < y ? -1 : 1);
  }
  auto temporal = [](const Value& v) { return v.kind == K::kDate || v.kind == K::kDateTime; };
  if (temporal(*a) && temporal(*b)) return CompareTemporal(a->temporal, b->temporal, false);
  if (a->kind != b->kind) {
    error = true;
    return std::nullopt;
  }
  switch (a->kind) {
    case K::kString: return a->text.compare(b->text) < 0 ? -1 : (a->text == b->text ? 0 : 1);
    case K::kTime: return CompareTemporal(a->temporal, b->temporal, true);
    case K::kQuantity: {
      auto values = InFirstUnit(*a, *b);
      if (!values) return std::nullopt;
      return NearlyEqual(values->first, values->second) ? 0 : (values->first < values->second ? -1 : 1);
    }
    default:
      error = true;
      return std::nullopt;
  }
}

}  // namespace ck::fhirpath
