// The FHIRPath function library (N1 sections 5.x and FHIR's additions), one entry per function.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <unordered_map>

#include "fhir/narrative_xhtml.h"
#include "fhirpath/function_library.h"

namespace ck::fhirpath {

Status EvalError(const std::string& what) { return Status::Invalid("FHIRPath evaluation error: " + what); }

// The single System value of a collection for functions on one item: nullopt when empty.
Result<std::optional<Value>> SingleValue(const Collection& c, std::string_view function) {
  if (c.empty()) return std::optional<Value>();
  if (c.size() > 1) return Err(EvalError(std::string(function) + "() needs a single item, got " + std::to_string(c.size())));
  if (c[0].IsElement() && !c[0].type->IsPrimitive()) {
    return Err(EvalError(std::string(function) + "() needs a primitive value, not a " + c[0].type->name));
  }
  return c[0].ToSystem();
}

Result<std::shared_ptr<const re2::RE2>> CompilePattern(const std::string& pattern) {
  re2::RE2::Options options;
  options.set_dot_nl(true);
  options.set_log_errors(false);
  auto compiled = std::make_shared<const re2::RE2>(pattern, options);
  if (!compiled->ok()) return Err(EvalError("invalid regular expression: " + compiled->error()));
  return compiled;
}

Result<std::optional<std::string>> StringArg(const FunctionCall& f, std::size_t i) {
  CK_ASSIGN_OR_RETURN(std::optional<Value> v, f.ArgValue(i));
  if (!v) return std::optional<std::string>();
  if (v->kind != ValueKind::kString) return Err(EvalError(f.expr.name + "() needs string arguments"));
  return std::optional<std::string>(v->text);
}

Result<std::optional<std::int64_t>> IntegerArg(const FunctionCall& f, std::size_t i) {
  CK_ASSIGN_OR_RETURN(std::optional<Value> v, f.ArgValue(i));
  if (!v) return std::optional<std::int64_t>();
  if (v->kind != ValueKind::kInteger) return Err(EvalError(f.expr.name + "() needs an integer argument"));
  return std::optional<std::int64_t>(v->integer);
}

namespace {

bool ContainsValue(const Collection& c, const Value& v) {
  for (const Value& item : c) {
    if (Equal(item, v).value_or(false)) return true;
  }
  return false;
}

std::optional<Value> ToInteger(const Value& v) {
  switch (v.kind) {
    case ValueKind::kInteger: return v;
    case ValueKind::kBoolean: return Value::Integer(v.boolean ? 1 : 0);
    case ValueKind::kString: {
      static const re2::RE2 kInteger("[+-]?[0-9]+");
      if (!re2::RE2::FullMatch(v.text, kInteger)) return std::nullopt;
      auto value = ToInt64(v.text);
      if (!value || *value > INT32_MAX || *value < INT32_MIN) return std::nullopt;
      return Value::Integer(*value);
    }
    default: return std::nullopt;
  }
}

std::optional<Value> ToDecimal(const Value& v) {
  switch (v.kind) {
    case ValueKind::kDecimal: return v;
    case ValueKind::kInteger: return Value::Decimal(static_cast<double>(v.integer), 0);
    case ValueKind::kBoolean: return Value::Decimal(v.boolean ? 1 : 0, 1);
    case ValueKind::kString: {
      static const re2::RE2 kDecimal("[+-]?[0-9]+(\\.[0-9]+)?");
      if (!re2::RE2::FullMatch(v.text, kDecimal)) return std::nullopt;
      std::size_t dot = v.text.find('.');
      auto value = ToDouble(v.text);
      if (!value) return std::nullopt;
      return Value::Decimal(*value, dot == std::string::npos ? 0 : static_cast<int>(v.text.size() - dot - 1));
    }
    default: return std::nullopt;
  }
}

std::optional<Value> ToBooleanValue(const Value& v) {
  switch (v.kind) {
    case ValueKind::kBoolean: return v;
    case ValueKind::kInteger:
      if (v.integer == 0 || v.integer == 1) return Value::Boolean(v.integer == 1);
      return std::nullopt;
    case ValueKind::kDecimal:
      if (v.decimal == 0 || v.decimal == 1) return Value::Boolean(v.decimal == 1);
      return std::nullopt;
    case ValueKind::kString: {
      std::string lower;
      for (char c : v.text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "true" || lower == "t" || lower == "yes" || lower == "y" || lower == "1" || lower == "1.0") return Value::Boolean(true);
      if (lower == "false" || lower == "f" || lower == "no" || lower == "n" || lower == "0" || lower == "0.0") return Value::Boolean(false);
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

std::optional<Value> ToStringValue(const Value& v) {
  if (v.kind == ValueKind::kElement) return std::nullopt;
  return Value::String(v.ToString());
}

std::optional<Value> ToTemporal(const Value& v, ValueKind kind) {
  if (v.kind == kind) return v;
  std::string text;
  if (v.kind == ValueKind::kString) {
    text = v.text;
  } else if ((v.kind == ValueKind::kDate || v.kind == ValueKind::kDateTime) && kind != ValueKind::kTime) {
    text = v.text;
    if (kind == ValueKind::kDate) text = text.substr(0, std::min<std::size_t>(text.size(), 10));
  } else {
    return std::nullopt;
  }
  std::optional<Temporal> t = kind == ValueKind::kDate ? ParseDate(text) : kind == ValueKind::kTime ? ParseTime(text) : ParseDateTime(text);
  if (!t) return std::nullopt;
  Value out;
  out.kind = kind;
  out.temporal = *t;
  out.text = text;
  return out;
}

std::optional<Value> ToQuantity(const Value& v) {
  switch (v.kind) {
    case ValueKind::kQuantity: return v;
    case ValueKind::kBoolean: return Value::Quantity(v.boolean ? 1.0 : 0.0, 1, "1");
    case ValueKind::kInteger: return Value::Quantity(static_cast<double>(v.integer), 0, "1");
    case ValueKind::kDecimal: return Value::Quantity(v.decimal, v.decimal_places, "1");
    case ValueKind::kString: {
      static const re2::RE2 kQuantity("([+-]?[0-9]+(\\.[0-9]+)?)\\s*(?:'([^']+)'|([a-z]+))?");
      std::string number, fraction, quoted_unit, word_unit;
      if (!re2::RE2::FullMatch(v.text, kQuantity, &number, &fraction, &quoted_unit, &word_unit)) return std::nullopt;
      if (!word_unit.empty() && !IsCalendarKeyword(word_unit)) return std::nullopt;  // unquoted: keywords only
      std::string unit = !quoted_unit.empty() ? quoted_unit : !word_unit.empty() ? word_unit : "1";
      auto value = ToDouble(number);
      if (!value) return std::nullopt;
      return Value::Quantity(*value, fraction.empty() ? 0 : static_cast<int>(fraction.size()) - 1, unit);
    }
    default: return std::nullopt;
  }
}

using Converter = std::optional<Value> (*)(const Value&);

Value Now(ValueKind kind) {
  using namespace std::chrono;
  auto now = system_clock::now();
  sys_days days = floor<std::chrono::days>(now);
  year_month_day ymd(days);
  hh_mm_ss<milliseconds> clock(duration_cast<milliseconds>(now - days));
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(clock.hours().count()),
                static_cast<int>(clock.minutes().count()), static_cast<int>(clock.seconds().count()),
                static_cast<int>(clock.subseconds().count()));
  std::string text = buffer;
  if (kind == ValueKind::kDate) text = text.substr(0, 10);
  if (kind == ValueKind::kTime) text = text.substr(11, 12);
  return *ToTemporal(Value::String(text), kind);
}

}  // namespace

namespace {

Result<Collection> Where(const FunctionCall& f) {
  CK_RETURN_IF_ERROR(f.Arity(1, 1));
  Collection out;
  for (std::size_t i = 0; i < f.input.size(); ++i) {
    CK_ASSIGN_OR_RETURN(Collection r, f.Lambda(0, f.input[i], static_cast<std::int64_t>(i)));
    CK_ASSIGN_OR_RETURN(std::optional<bool> keep, Evaluator::AsBoolean(r));
    if (keep == true) out.push_back(f.input[i]);
  }
  return out;
}

Result<Collection> Select(const FunctionCall& f) {
  CK_RETURN_IF_ERROR(f.Arity(1, 1));
  Collection out;
  for (std::size_t i = 0; i < f.input.size(); ++i) {
    CK_ASSIGN_OR_RETURN(Collection r, f.Lambda(0, f.input[i], static_cast<std::int64_t>(i)));
    out.insert(out.end(), r.begin(), r.end());
  }
  return out;
}

Result<Collection> Repeat(const FunctionCall& f) {
  CK_RETURN_IF_ERROR(f.Arity(1, 1));
  Collection out;
  Collection frontier = f.input;
  while (!frontier.empty()) {
    Collection next;
    for (std::size_t i = 0; i < frontier.size(); ++i) {
      CK_ASSIGN_OR_RETURN(Collection r, f.Lambda(0, frontier[i], static_cast<std::int64_t>(i)));
      for (Value& v : r) {
        if (ContainsValue(out, v)) continue;
        out.push_back(v);
        next.push_back(std::move(v));
      }
    }
    frontier = std::move(next);
  }
  return out;
}

Result<Collection> AllOf(const FunctionCall& f) {
  CK_RETURN_IF_ERROR(f.Arity(1, 1));
  for (std::size_t i = 0; i < f.input.size(); ++i) {
    CK_ASSIGN_OR_RETURN(Collection r, f.Lambda(0, f.input[i], static_cast<std::int64_t>(i)));
    CK_ASSIGN_OR_RETURN(std::optional<bool> ok, Evaluator::AsBoolean(r));
    if (ok != true) return Boolean(false);
  }
  return Boolean(true);
}

// allTrue / anyTrue / allFalse / anyFalse
Function BooleanAggregate(bool want, bool all) {
  return [want, all](const FunctionCall& f) -> Result<Collection> {
    CK_RETURN_IF_ERROR(f.Arity(0, 0));
    for (const Value& item : f.input) {
      auto v = item.ToSystem();
      if (!v || v->kind != ValueKind::kBoolean) return Err(EvalError(f.expr.name + "() needs booleans"));
      if (all && v->boolean != want) return Boolean(false);
      if (!all && v->boolean == want) return Boolean(true);
    }
    return Boolean(all);
  };
}

Result<Collection> Exists(const FunctionCall& f) {
  CK_RETURN_IF_ERROR(f.Arity(0, 1));
  if (f.arity() == 0) return Boolean(!f.input.empty());
  CK_ASSIGN_OR_RETURN(Collection matching, Where(f));
  return Boolean(!matching.empty());
}

Result<Collection> Aggregate(const FunctionCall& f) {
  CK_RETURN_IF_ERROR(f.Arity(1, 2));
  Collection total;
  if (f.arity() == 2) {
    CK_ASSIGN_OR_RETURN(total, f.Arg(1));
  }
  for (std::size_t i = 0; i < f.input.size(); ++i) {
    CK_ASSIGN_OR_RETURN(total, f.Lambda(0, f.input[i], static_cast<std::int64_t>(i), &total));
  }
  return total;
}

Result<Collection> Iif(const FunctionCall& f) {
  CK_RETURN_IF_ERROR(f.Arity(2, 3));
  if (f.input.size() > 1) return Err(EvalError("iif() needs at most one input item"));
  CK_ASSIGN_OR_RETURN(Collection condition, f.ArgOnInput(0));
  if (condition.size() == 1) {
    auto v = condition[0].ToSystem();
    if (!v || v->kind != ValueKind::kBoolean) return Err(EvalError("iif() needs a boolean criterion"));
  }
  CK_ASSIGN_OR_RETURN(std::optional<bool> yes, Evaluator::AsBoolean(condition));
  if (yes == true) return f.ArgOnInput(1);
  if (f.arity() == 3) return f.ArgOnInput(2);
  return Collection{};
}

// Subsetting with an integer argument: skip, take.
Function Slice(bool skip) {
  return [skip](const FunctionCall& f) -> Result<Collection> {
    CK_RETURN_IF_ERROR(f.Arity(1, 1));
    CK_ASSIGN_OR_RETURN(std::optional<Value> n, f.ArgValue(0));
    if (!n || n->kind != ValueKind::kInteger) return Err(EvalError(f.expr.name + "() needs an integer"));
    std::int64_t count = std::clamp<std::int64_t>(n->integer, 0, static_cast<std::int64_t>(f.input.size()));
    if (skip) return Collection(f.input.begin() + count, f.input.end());
    return Collection(f.input.begin(), f.input.begin() + count);
  };
}

// Set functions on the input and one collection argument.
Function SetOperation(std::string_view which) {
  return [which](const FunctionCall& f) -> Result<Collection> {
    CK_RETURN_IF_ERROR(f.Arity(1, 1));
    CK_ASSIGN_OR_RETURN(Collection other, f.Arg(0));
    Collection out;
    if (which == "union" || which == "combine") {
      for (const Collection* side : {static_cast<const Collection*>(&f.input), static_cast<const Collection*>(&other)}) {
        for (const Value& v : *side) {
          if (which == "combine" || !ContainsValue(out, v)) out.push_back(v);
        }
      }
      return out;
    }
    if (which == "subsetOf") {
      for (const Value& v : f.input) {
        if (!ContainsValue(other, v)) return Boolean(false);
      }
      return Boolean(true);
    }
    if (which == "supersetOf") {
      for (const Value& v : other) {
        if (!ContainsValue(f.input, v)) return Boolean(false);
      }
      return Boolean(true);
    }
    for (const Value& v : f.input) {
      bool in_other = ContainsValue(other, v);
      if (which == "intersect" && in_other && !ContainsValue(out, v)) out.push_back(v);
      if (which == "exclude" && !in_other) out.push_back(v);
    }
    return out;
  };
}

// toX() and convertsToX() from one converter.
Function Convert(Converter converter, bool test_only) {
  return [converter, test_only](const FunctionCall& f) -> Result<Collection> {
    CK_ASSIGN_OR_RETURN(std::optional<Value> v, f.InputValue());
    if (!v) return Collection{};
    std::optional<Value> converted = converter(*v);
    if (test_only) return Boolean(converted.has_value());
    if (!converted) return Collection{};
    return Single(*converted);
  };
}

// String functions on the single input string.
using StringFunction = std::function<Result<Collection>(const std::string&, const FunctionCall&)>;
Function OnString(StringFunction body) {
  return [body](const FunctionCall& f) -> Result<Collection> {
    CK_ASSIGN_OR_RETURN(std::optional<Value> v, f.InputValue());
    if (!v) return Collection{};
    if (v->kind != ValueKind::kString) return Err(EvalError(f.expr.name + "() needs a string"));
    return body(v->text, f);
  };
}

// Math on the single numeric input.
Function OnNumber(std::function<Result<Collection>(const Value&, const FunctionCall&)> body) {
  return [body](const FunctionCall& f) -> Result<Collection> {
    CK_ASSIGN_OR_RETURN(std::optional<Value> v, f.InputValue());
    if (!v) return Collection{};
    if (v->kind != ValueKind::kInteger && v->kind != ValueKind::kDecimal && v->kind != ValueKind::kQuantity) {
      return Err(EvalError(f.expr.name + "() needs a number"));
    }
    return body(*v, f);
  };
}

double AsDouble(const Value& v) { return v.kind == ValueKind::kInteger ? static_cast<double>(v.integer) : v.decimal; }

Function DecimalMath(double (*op)(double)) {
  return OnNumber([op](const Value& v, const FunctionCall&) -> Result<Collection> {
    double r = op(AsDouble(v));
    if (std::isnan(r) || std::isinf(r)) return Collection{};
    return Single(Value::Decimal(r, 8));
  });
}

Function IntegerMath(double (*op)(double)) {
  return OnNumber([op](const Value& v, const FunctionCall&) -> Result<Collection> {
    return Single(Value::Integer(static_cast<std::int64_t>(op(AsDouble(v)))));
  });
}

const FunctionTable& Functions() {
  static const FunctionTable functions = [] {
    FunctionTable table = {
      {"empty", [](const FunctionCall& f) -> Result<Collection> { return Boolean(f.input.empty()); }},
      {"exists", Exists},
      {"all", AllOf},
      {"allTrue", BooleanAggregate(true, true)},
      {"anyTrue", BooleanAggregate(true, false)},
      {"allFalse", BooleanAggregate(false, true)},
      {"anyFalse", BooleanAggregate(false, false)},
      {"subsetOf", SetOperation("subsetOf")},
      {"supersetOf", SetOperation("supersetOf")},
      {"count", [](const FunctionCall& f) -> Result<Collection> { return Single(Value::Integer(static_cast<std::int64_t>(f.input.size()))); }},
      {"distinct", [](const FunctionCall& f) -> Result<Collection> {
         Collection out;
         for (const Value& v : f.input) {
           if (!ContainsValue(out, v)) out.push_back(v);
         }
         return out;
       }},
      {"isDistinct", [](const FunctionCall& f) -> Result<Collection> {
         Collection out;
         for (const Value& v : f.input) {
           if (ContainsValue(out, v)) return Boolean(false);
           out.push_back(v);
         }
         return Boolean(true);
       }},
      {"where", Where},
      {"select", Select},
      {"repeat", Repeat},
      {"aggregate", Aggregate},
      {"ofType", [](const FunctionCall& f) -> Result<Collection> {
         CK_RETURN_IF_ERROR(f.Arity(1, 1));
         const Expr& type = f.argument(0);
         if (type.kind != Expr::Kind::kMember) return Err(EvalError("ofType() needs a type name"));
         std::string name = type.has_target && type.children[0]->kind == Expr::Kind::kMember ? type.children[0]->name + "." + type.name : type.name;
         Collection out;
         for (const Value& v : f.input) {
           if (f.evaluator.IsType(v, name, Evaluator::TypeMatch::kExactPrimitive)) out.push_back(v);
         }
         return out;
       }},
      {"single", [](const FunctionCall& f) -> Result<Collection> {
         if (f.input.size() > 1) return Err(EvalError("single() on " + std::to_string(f.input.size()) + " items"));
         return f.input;
       }},
      {"first", [](const FunctionCall& f) -> Result<Collection> { return f.input.empty() ? Collection{} : Single(f.input.front()); }},
      {"last", [](const FunctionCall& f) -> Result<Collection> { return f.input.empty() ? Collection{} : Single(f.input.back()); }},
      {"tail", [](const FunctionCall& f) -> Result<Collection> {
         return f.input.empty() ? Collection{} : Collection(f.input.begin() + 1, f.input.end());
       }},
      {"skip", Slice(true)},
      {"take", Slice(false)},
      {"intersect", SetOperation("intersect")},
      {"exclude", SetOperation("exclude")},
      {"union", SetOperation("union")},
      {"combine", SetOperation("combine")},
      {"iif", Iif},
      {"not", [](const FunctionCall& f) -> Result<Collection> {
         CK_ASSIGN_OR_RETURN(std::optional<bool> b, Evaluator::AsBoolean(f.input));
         if (!b) return Collection{};
         return Boolean(!*b);
       }},
      {"toBoolean", Convert(ToBooleanValue, false)},
      {"convertsToBoolean", Convert(ToBooleanValue, true)},
      {"toInteger", Convert(ToInteger, false)},
      {"convertsToInteger", Convert(ToInteger, true)},
      {"toDecimal", Convert(ToDecimal, false)},
      {"convertsToDecimal", Convert(ToDecimal, true)},
      {"toString", Convert(ToStringValue, false)},
      {"convertsToString", Convert(ToStringValue, true)},
      {"toDate", Convert([](const Value& v) { return ToTemporal(v, ValueKind::kDate); }, false)},
      {"convertsToDate", Convert([](const Value& v) { return ToTemporal(v, ValueKind::kDate); }, true)},
      {"toDateTime", Convert([](const Value& v) { return ToTemporal(v, ValueKind::kDateTime); }, false)},
      {"convertsToDateTime", Convert([](const Value& v) { return ToTemporal(v, ValueKind::kDateTime); }, true)},
      {"toTime", Convert([](const Value& v) { return ToTemporal(v, ValueKind::kTime); }, false)},
      {"convertsToTime", Convert([](const Value& v) { return ToTemporal(v, ValueKind::kTime); }, true)},
      {"toQuantity", Convert(ToQuantity, false)},
      {"convertsToQuantity", Convert(ToQuantity, true)},
      {"indexOf", OnString([](const std::string& s, const FunctionCall& f) -> Result<Collection> {
         CK_ASSIGN_OR_RETURN(auto sub, StringArg(f, 0));
         if (!sub) return Collection{};
         std::size_t at = s.find(*sub);
         return Single(Value::Integer(at == std::string::npos ? -1 : static_cast<std::int64_t>(at)));
       })},
      {"substring", OnString([](const std::string& s, const FunctionCall& f) -> Result<Collection> {
         CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> start, IntegerArg(f, 0));
         if (!start || *start < 0 || *start >= static_cast<std::int64_t>(s.size())) return Collection{};
         std::size_t length = std::string::npos;
         if (f.arity() > 1) {
           CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> n, IntegerArg(f, 1));
           if (n) length = static_cast<std::size_t>(std::max<std::int64_t>(0, *n));
         }
         return Single(Value::String(s.substr(static_cast<std::size_t>(*start), length)));
       })},
      {"startsWith", OnString([](const std::string& s, const FunctionCall& f) -> Result<Collection> {
         CK_ASSIGN_OR_RETURN(auto p, StringArg(f, 0));
         if (!p) return Collection{};
         return Boolean(s.starts_with(*p));
       })},
      {"endsWith", OnString([](const std::string& s, const FunctionCall& f) -> Result<Collection> {
         CK_ASSIGN_OR_RETURN(auto p, StringArg(f, 0));
         if (!p) return Collection{};
         return Boolean(s.ends_with(*p));
       })},
      {"contains", OnString([](const std::string& s, const FunctionCall& f) -> Result<Collection> {
         CK_ASSIGN_OR_RETURN(auto p, StringArg(f, 0));
         if (!p) return Collection{};
         return Boolean(s.find(*p) != std::string::npos);
       })},
      {"upper", OnString([](const std::string& s, const FunctionCall&) -> Result<Collection> {
         std::string out = s;
         for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
         return Single(Value::String(out));
       })},
      {"lower", OnString([](const std::string& s, const FunctionCall&) -> Result<Collection> {
         std::string out = s;
         for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
         return Single(Value::String(out));
       })},
      {"replace", OnString([](const std::string& s, const FunctionCall& f) -> Result<Collection> {
         CK_ASSIGN_OR_RETURN(auto pattern, StringArg(f, 0));
         CK_ASSIGN_OR_RETURN(auto substitution, StringArg(f, 1));
         if (!pattern || !substitution) return Collection{};
         std::string out;
         if (pattern->empty()) {
           out = *substitution;
           for (char c : s) out += std::string(1, c) + *substitution;
           return Single(Value::String(out));
         }
         std::size_t start = 0;
         for (std::size_t at = s.find(*pattern); at != std::string::npos; at = s.find(*pattern, start)) {
           out += s.substr(start, at - start) + *substitution;
           start = at + pattern->size();
         }
         return Single(Value::String(out + s.substr(start)));
       })},
      {"matches", OnString([](const std::string& s, const FunctionCall& f) -> Result<Collection> {
         CK_ASSIGN_OR_RETURN(auto pattern, StringArg(f, 0));
         if (!pattern) return Collection{};
         CK_ASSIGN_OR_RETURN(auto compiled, CompilePattern(*pattern));
         return Boolean(re2::RE2::PartialMatch(s, *compiled));
       })},
      {"replaceMatches", OnString([](const std::string& s, const FunctionCall& f) -> Result<Collection> {
         CK_ASSIGN_OR_RETURN(auto pattern, StringArg(f, 0));
         CK_ASSIGN_OR_RETURN(auto substitution, StringArg(f, 1));
         if (!pattern || !substitution) return Collection{};
         if (pattern->empty()) return Single(Value::String(s));  // an empty pattern matches nothing to replace
         CK_ASSIGN_OR_RETURN(auto compiled, CompilePattern(*pattern));
         // FHIRPath writes groups as $1; RE2 as \1 (and a literal backslash as \\).
         std::string rewrite;
         for (std::size_t i = 0; i < substitution->size(); ++i) {
           char c = (*substitution)[i];
           if (c == '\\') {
             rewrite += "\\\\";
           } else if (c == '$' && i + 1 < substitution->size() && std::isdigit(static_cast<unsigned char>((*substitution)[i + 1]))) {
             rewrite += '\\';
           } else {
             rewrite += c;
           }
         }
         std::string out = s;
         re2::RE2::GlobalReplace(&out, *compiled, rewrite);
         return Single(Value::String(out));
       })},
      {"length", OnString([](const std::string& s, const FunctionCall&) -> Result<Collection> {
         return Single(Value::Integer(static_cast<std::int64_t>(s.size())));
       })},
      {"toChars", OnString([](const std::string& s, const FunctionCall&) -> Result<Collection> {
         Collection out;
         for (char c : s) out.push_back(Value::String(std::string(1, c)));
         return out;
       })},
      {"trim", OnString([](const std::string& s, const FunctionCall&) -> Result<Collection> {
         std::size_t b = s.find_first_not_of(" \t\r\n");
         if (b == std::string::npos) return Single(Value::String(""));
         return Single(Value::String(s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1)));
       })},
      {"split", OnString([](const std::string& s, const FunctionCall& f) -> Result<Collection> {
         CK_ASSIGN_OR_RETURN(auto separator, StringArg(f, 0));
         if (!separator || separator->empty()) return Collection{};
         Collection out;
         std::size_t start = 0;
         for (std::size_t at = s.find(*separator); at != std::string::npos; at = s.find(*separator, start)) {
           out.push_back(Value::String(s.substr(start, at - start)));
           start = at + separator->size();
         }
         out.push_back(Value::String(s.substr(start)));
         return out;
       })},
      {"join", [](const FunctionCall& f) -> Result<Collection> {
         std::string separator;
         if (f.arity() > 0) {
           CK_ASSIGN_OR_RETURN(auto s, StringArg(f, 0));
           separator = s.value_or("");
         }
         std::string out;
         for (std::size_t i = 0; i < f.input.size(); ++i) out += (i ? separator : "") + f.input[i].ToString();
         return Single(Value::String(out));
       }},
      {"abs", OnNumber([](const Value& v, const FunctionCall&) -> Result<Collection> {
         if (v.kind == ValueKind::kInteger) return Single(Value::Integer(std::llabs(v.integer)));
         if (v.kind == ValueKind::kQuantity) return Single(Value::Quantity(std::fabs(v.decimal), v.decimal_places, v.text));
         return Single(Value::Decimal(std::fabs(v.decimal), v.decimal_places));
       })},
      {"ceiling", IntegerMath([](double x) { return std::ceil(x); })},
      {"floor", IntegerMath([](double x) { return std::floor(x); })},
      {"truncate", IntegerMath([](double x) { return std::trunc(x); })},
      {"exp", DecimalMath([](double x) { return std::exp(x); })},
      {"ln", DecimalMath([](double x) { return std::log(x); })},
      {"sqrt", DecimalMath([](double x) { return std::sqrt(x); })},
      {"log", OnNumber([](const Value& v, const FunctionCall& f) -> Result<Collection> {
         CK_ASSIGN_OR_RETURN(std::optional<Value> base, f.ArgValue(0));
         if (!base) return Collection{};
         return Single(Value::Decimal(std::log(AsDouble(v)) / std::log(AsDouble(*base)), 8));
       })},
      {"power", OnNumber([](const Value& v, const FunctionCall& f) -> Result<Collection> {
         CK_ASSIGN_OR_RETURN(std::optional<Value> exponent, f.ArgValue(0));
         if (!exponent) return Collection{};
         double r = std::pow(AsDouble(v), AsDouble(*exponent));
         if (std::isnan(r)) return Collection{};
         if (v.kind == ValueKind::kInteger && exponent->kind == ValueKind::kInteger && exponent->integer >= 0) {
           return Single(Value::Integer(static_cast<std::int64_t>(r)));
         }
         return Single(Value::Decimal(r, 8));
       })},
      {"round", OnNumber([](const Value& v, const FunctionCall& f) -> Result<Collection> {
         std::int64_t places = 0;
         if (f.arity() > 0) {
           CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> p, IntegerArg(f, 0));
           places = p.value_or(0);
         }
         double scale = std::pow(10.0, static_cast<double>(places));
         return Single(Value::Decimal(std::round(AsDouble(v) * scale) / scale, static_cast<int>(places)));
       })},
      {"children", [](const FunctionCall& f) -> Result<Collection> {
         Collection out;
         for (const Value& v : f.input) f.evaluator.Children(v, out);
         return out;
       }},
      {"descendants", [](const FunctionCall& f) -> Result<Collection> {
         Collection out;
         Collection frontier = f.input;
         while (!frontier.empty()) {
           Collection next;
           for (const Value& v : frontier) f.evaluator.Children(v, next);
           out.insert(out.end(), next.begin(), next.end());
           frontier = std::move(next);
         }
         return out;
       }},
      {"trace", [](const FunctionCall& f) -> Result<Collection> { return f.input; }},
      {"now", [](const FunctionCall&) -> Result<Collection> { return Single(Now(ValueKind::kDateTime)); }},
      {"today", [](const FunctionCall&) -> Result<Collection> { return Single(Now(ValueKind::kDate)); }},
      {"timeOfDay", [](const FunctionCall&) -> Result<Collection> { return Single(Now(ValueKind::kTime)); }},
      {"hasValue", [](const FunctionCall& f) -> Result<Collection> {
         return Boolean(f.input.size() == 1 && f.input[0].IsElement() && f.input[0].ToSystem().has_value());
       }},
      {"getValue", [](const FunctionCall& f) -> Result<Collection> {
         if (f.input.size() != 1) return Collection{};
         auto v = f.input[0].ToSystem();
         return v && f.input[0].IsElement() ? Single(*v) : Collection{};
       }},
      {"extension", [](const FunctionCall& f) -> Result<Collection> {
         CK_ASSIGN_OR_RETURN(auto url, StringArg(f, 0));
         Collection out;
         for (const Value& e : f.evaluator.Member(f.input, "extension")) {
           for (const Value& u : f.evaluator.Member(Single(e), "url")) {
             if (url && u.ToString() == *url) out.push_back(e);
           }
         }
         return out;
       }},
      {"resolve", [](const FunctionCall& f) -> Result<Collection> {
         Collection out;
         for (const Value& item : f.input) {
           std::optional<Value> text = item.ToSystem();  // a uri, canonical or string resolves as written
           Collection references = text && text->kind == ValueKind::kString ? Single(*text) : f.evaluator.Member(Single(item), "reference");
           for (const Value& reference : references) {
             if (std::optional<Value> target = f.evaluator.Resolve(reference.ToString())) out.push_back(std::move(*target));
           }
         }
         return out;
       }},
      {"htmlChecks", [](const FunctionCall& f) -> Result<Collection> {
         // An xhtml element is checked as a whole narrative; a string (FHIRPath 2.0's overload) as
         // the content of one. Anything else, or several items, gives empty.
         CK_RETURN_IF_ERROR(f.Arity(0, 0));
         if (f.input.size() != 1) return Collection{};
         const Value& item = f.input[0];
         std::optional<Value> text = item.ToSystem();
         if (!text || text->kind != ValueKind::kString) return Collection{};
         const std::string_view type = item.IsElement() ? std::string_view(item.type->name) : "string";
         if (type == "xhtml") return Boolean(!fhir::CheckNarrativeXhtml(text->text));
         if (type == "string" || type == "markdown" || type == "code" || type == "id") {
           return Boolean(!fhir::CheckNarrativeContent(text->text));
         }
         return Collection{};
       }},
      {"is", [](const FunctionCall& f) -> Result<Collection> {
         CK_RETURN_IF_ERROR(f.Arity(1, 1));
         if (f.input.empty()) return Collection{};
         if (f.input.size() > 1) return Err(EvalError("is() needs a single item"));
         const Expr& type = f.argument(0);
         std::string name = type.has_target ? type.children[0]->name + "." + type.name : type.name;
         return Boolean(f.evaluator.IsType(f.input[0], name, Evaluator::TypeMatch::kSpecializations));
       }},
      {"as", [](const FunctionCall& f) -> Result<Collection> {
         CK_RETURN_IF_ERROR(f.Arity(1, 1));
         // N1 makes as() an error on several items, but FHIR R4's own invariants rely on it
         // filtering a collection (dom-3: descendants().as(canonical)), as the reference engine does.
         const Expr& type = f.argument(0);
         std::string name = type.has_target ? type.children[0]->name + "." + type.name : type.name;
         Collection out;
         for (const Value& v : f.input) {
           if (f.evaluator.IsType(v, name, Evaluator::TypeMatch::kExactPrimitive)) out.push_back(v);
         }
         return out;
       }},
    };
    AddVersion2Functions(table);
    return table;
  }();
  return functions;
}

}  // namespace

Result<Collection> Evaluator::Call(const Expr& expr, const Collection& input, const Collection& outer, const Scope& scope) {
  const auto& functions = Functions();
  auto it = functions.find(expr.name);
  if (it == functions.end()) return Err(EvalError("unknown or unsupported function " + expr.name + "()"));
  return it->second(FunctionCall{*this, expr, input, outer, scope});
}

}  // namespace ck::fhirpath
