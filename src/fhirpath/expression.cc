#include "fhirpath/expression.h"

#include <chrono>
#include <cmath>

#include "fhirpath/evaluator.h"
#include "fhirpath/parser.h"
#include "fhirpath/type_checker.h"
#include "terminology/ucum.h"

namespace ck::fhirpath {
namespace {

Status EvalError(const std::string& what) { return Status::Invalid("FHIRPath evaluation error: " + what); }

Collection Single(Value v) { return Collection{std::move(v)}; }
Collection Boolean(bool b) { return Single(Value::Boolean(b)); }


std::string_view SystemTypeOf(ValueKind kind) {
  switch (kind) {
    case ValueKind::kBoolean: return "Boolean";
    case ValueKind::kInteger: return "Integer";
    case ValueKind::kDecimal: return "Decimal";
    case ValueKind::kString: return "String";
    case ValueKind::kDate: return "Date";
    case ValueKind::kDateTime: return "DateTime";
    case ValueKind::kTime: return "Time";
    case ValueKind::kQuantity: return "Quantity";
    case ValueKind::kElement:
    case ValueKind::kTypeInfo: return "";
  }
  return "";
}

// Collection equality (`=`): item-wise in order; empty if either side is empty.
std::optional<bool> CollectionsEqual(const Collection& a, const Collection& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto e = Equal(a[i], b[i]);
    if (!e) return std::nullopt;
    if (!*e) return false;
  }
  return true;
}

// Collection equivalence (`~`): the same items in any order.
bool CollectionsEquivalent(const Collection& a, const Collection& b) {
  if (a.size() != b.size()) return false;
  std::vector<bool> used(b.size(), false);
  for (const Value& x : a) {
    bool found = false;
    for (std::size_t j = 0; j < b.size() && !found; ++j) {
      if (!used[j] && Equivalent(x, b[j])) used[j] = found = true;
    }
    if (!found) return false;
  }
  return true;
}

bool Contains(const Collection& c, const Value& v) {
  for (const Value& item : c) {
    if (Equal(item, v).value_or(false)) return true;
  }
  return false;
}

// Adds a calendar or UCUM time quantity to a date, dateTime or time.
Result<Value> AddDuration(const Value& base, const Value& quantity, int sign) {
  const std::string unit = UcumCode(quantity.text);  // calendar keywords as UCUM codes; year, month stay
  // Only whole units move a date (FHIRPath: the decimal part of a duration is ignored).
  double amount = std::trunc(quantity.decimal) * sign;
  Temporal t = base.temporal;
  using namespace std::chrono;
  // FHIRPath dates lie in the years 1-9999: a longer duration can only leave that range.
  constexpr double kMaxMonths = 12 * 10000.0;
  constexpr double kMaxMilliseconds = 366 * 86400000.0 * 10000;
  const Status out_of_range = EvalError("the result of adding " + quantity.ToString() + " is not a date in the years 1-9999");
  if (unit == "year" || unit == "month") {
    if (std::fabs(unit == "year" ? amount * 12 : amount) > kMaxMonths) return Err(out_of_range);
    auto whole = static_cast<long long>(amount);
    long long months = unit == "year" ? whole * 12 : whole;
    year_month ym = year(t.year) / month(std::max(1, t.month));
    ym += std::chrono::months(months);
    t.year = static_cast<int>(ym.year());
    if (t.precision >= 1) t.month = static_cast<int>(static_cast<unsigned>(ym.month()));
    if (t.precision >= 2) {
      auto last = static_cast<unsigned>(year_month_day_last(ym.year(), month_day_last(ym.month())).day());
      t.day = std::min<int>(t.day, static_cast<int>(last));
    }
  } else {
    static const std::pair<std::string_view, long long> kMillis[] = {
        {"wk", 604800000LL}, {"d", 86400000LL}, {"h", 3600000LL}, {"min", 60000LL}, {"s", 1000LL}, {"ms", 1LL}};
    std::optional<long long> delta;
    for (const auto& [code, ms] : kMillis) {
      if (unit != code) continue;
      if (std::fabs(amount * static_cast<double>(ms)) > kMaxMilliseconds) return Err(out_of_range);
      delta = static_cast<long long>(std::llround(amount * static_cast<double>(ms)));
    }
    if (!delta) return Err(EvalError("cannot add a quantity in '" + quantity.text + "' to a date"));
    if (base.kind == ValueKind::kTime) {
      long long in_day = ((t.hour * 60LL + t.minute) * 60 + t.second) * 1000 + t.millisecond;
      in_day = ((in_day + *delta % 86400000LL) % 86400000LL + 86400000LL) % 86400000LL;
      t.millisecond = static_cast<int>(in_day % 1000);
      t.second = static_cast<int>(in_day / 1000 % 60);
      t.minute = static_cast<int>(in_day / 60000 % 60);
      t.hour = static_cast<int>(in_day / 3600000);
    } else {
      sys_days days{year(t.year) / month(std::max(1, t.month)) / day(std::max(1, t.day))};
      sys_time<milliseconds> time = days + hours(t.hour) + minutes(t.minute) + seconds(t.second) + milliseconds(t.millisecond);
      // Below the value's precision, only whole units of that precision move it.
      time += milliseconds(*delta);
      sys_days new_days = floor<std::chrono::days>(time);
      year_month_day ymd(new_days);
      hh_mm_ss<milliseconds> clock(time - new_days);
      t.year = static_cast<int>(ymd.year());
      if (t.precision >= 1) t.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
      if (t.precision >= 2) t.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
      if (t.precision >= 3) t.hour = static_cast<int>(clock.hours().count());
      if (t.precision >= 4) t.minute = static_cast<int>(clock.minutes().count());
      if (t.precision >= 5) t.second = static_cast<int>(clock.seconds().count());
      if (t.precision >= 6) t.millisecond = static_cast<int>(clock.subseconds().count());
    }
  }
  if (base.kind != ValueKind::kTime && (t.year < 1 || t.year > 9999)) return Err(out_of_range);
  Value out = base;
  out.temporal = t;
  out.text = FormatTemporal(t, base.kind);
  return out;
}

// A number as a quantity of unit '1', for arithmetic with quantities.
Value AsQuantity(const Value& v) {
  if (v.kind == ValueKind::kInteger) return Value::Quantity(static_cast<double>(v.integer), 0, "1");
  if (v.kind == ValueKind::kDecimal) return Value::Quantity(v.decimal, v.decimal_places, "1");
  return v;
}

// `unit` as a UCUM component that can follow "." or "/" without changing its meaning.
std::string UnitOperand(const std::string& unit) {
  if (unit.find_first_of("./") == std::string::npos) return unit;
  return "(" + (unit.front() == '/' ? "1" + unit : unit) + ")";
}

// The fewest decimal places, at least `at_least` and at most 8 (FHIRPath's decimal precision),
// that show `value` as it is.
int PlacesToShow(double value, int at_least) {
  int places = std::max(at_least, 0);
  while (places < 8) {
    const double scaled = value * std::pow(10.0, places);
    if (std::fabs(scaled - std::round(scaled)) <= 1e-9 * std::max(1.0, std::fabs(scaled))) break;
    ++places;
  }
  return places;
}

// + - * / on quantities: sums in the first one's unit (converted with UCUM); products and
// quotients in the product or quotient of the units, which UCUM then compares by dimension.
Result<Collection> QuantityArithmetic(const std::string& op, const Value& a, const Value& b) {
  const int places = std::max(a.decimal_places, b.decimal_places);
  if (op == "+" || op == "-") {
    auto values = InFirstUnit(a, b);
    if (!values) return Err(EvalError("cannot " + std::string(op == "+" ? "add" : "subtract") + " quantities in '" + a.text + "' and '" + b.text + "'"));
    const double sum = op == "+" ? values->first + values->second : values->first - values->second;
    return Single(Value::Quantity(sum, PlacesToShow(sum, places), a.text));
  }
  if (op != "*" && op != "/") return Err(EvalError("'" + op + "' does not apply to quantities"));
  if (op == "/" && b.decimal == 0) return Collection{};
  const std::string ua = UcumCode(a.text);
  const std::string ub = UcumCode(b.text);
  std::string unit;
  if (ub == "1") {
    unit = a.text;  // scaling keeps the unit as written (`3 days * 2` is 6 days)
  } else if (ua == "1" && op == "*") {
    unit = b.text;
  } else {
    unit = UnitOperand(ua) + (op == "*" ? "." : "/") + UnitOperand(ub);
    if (!terminology::ParseUcum(unit)) {
      return Err(EvalError("cannot " + std::string(op == "*" ? "multiply" : "divide") + " quantities in '" + a.text + "' and '" + b.text + "'"));
    }
  }
  const double result = op == "*" ? a.decimal * b.decimal : a.decimal / b.decimal;
  return Single(Value::Quantity(result, PlacesToShow(result, places), std::move(unit)));
}

}  // namespace

Result<Collection> Arithmetic(const std::string& op, const Collection& left, const Collection& right) {
  if (op == "&") {
    std::string out;
    for (const Collection* side : {&left, &right}) {
      if (side->size() > 1) return Err(EvalError("& needs single values"));
      if (!side->empty()) out += (*side)[0].ToString();
    }
    return Single(Value::String(out));
  }
  if (left.empty() || right.empty()) return Collection{};
  if (left.size() > 1 || right.size() > 1) return Err(EvalError("'" + op + "' needs single values on both sides"));
  auto a = left[0].ToSystem();
  auto b = right[0].ToSystem();
  if (!a || !b) return Collection{};
  using K = ValueKind;
  if (op == "+" && a->kind == K::kString && b->kind == K::kString) return Single(Value::String(a->text + b->text));
  if ((a->kind == K::kDate || a->kind == K::kDateTime || a->kind == K::kTime) && b->kind == K::kQuantity && (op == "+" || op == "-")) {
    CK_ASSIGN_OR_RETURN(Value shifted, AddDuration(*a, *b, op == "+" ? 1 : -1));
    return Single(std::move(shifted));
  }
  auto numeric = [](const Value& v) { return v.kind == K::kInteger || v.kind == K::kDecimal; };
  if (a->kind == K::kQuantity || b->kind == K::kQuantity) {
    if (!(a->kind == K::kQuantity || numeric(*a)) || !(b->kind == K::kQuantity || numeric(*b))) {
      return Err(EvalError("'" + op + "' cannot combine a quantity with " + (a->kind == K::kQuantity ? b : a)->ToString()));
    }
    return QuantityArithmetic(op, AsQuantity(*a), AsQuantity(*b));
  }
  if (!numeric(*a) || !numeric(*b)) return Err(EvalError("'" + op + "' needs numbers, got " + a->ToString() + " and " + b->ToString()));
  bool integers = a->kind == K::kInteger && b->kind == K::kInteger;
  double x = a->kind == K::kInteger ? static_cast<double>(a->integer) : a->decimal;
  double y = b->kind == K::kInteger ? static_cast<double>(b->integer) : b->decimal;
  int places = std::max(a->kind == K::kDecimal ? a->decimal_places : 0, b->kind == K::kDecimal ? b->decimal_places : 0);
  if (op == "div" || op == "mod") {
    if (y == 0) return Collection{};
    if (integers) return Single(Value::Integer(op == "div" ? a->integer / b->integer : a->integer % b->integer));
    return op == "div" ? Single(Value::Integer(static_cast<std::int64_t>(std::trunc(x / y)))) : Single(Value::Decimal(std::fmod(x, y), places));
  }
  if (op == "/") {
    if (y == 0) return Collection{};
    return Single(Value::Decimal(x / y, PlacesToShow(x / y, places)));
  }
  if (integers) {
    std::int64_t r = 0;
    bool overflow = op == "+"   ? __builtin_add_overflow(a->integer, b->integer, &r)
                    : op == "-" ? __builtin_sub_overflow(a->integer, b->integer, &r)
                                : __builtin_mul_overflow(a->integer, b->integer, &r);
    if (overflow) return Err(EvalError("integer overflow in '" + op + "'"));
    return Single(Value::Integer(r));
  }
  double r = op == "+" ? x + y : op == "-" ? x - y : x * y;
  return Single(Value::Decimal(r, op == "*" ? PlacesToShow(r, places) : places));
}

Result<std::optional<bool>> Evaluator::AsBoolean(const Collection& c) {
  if (c.empty()) return std::optional<bool>();
  if (c.size() > 1) return Err(EvalError("expected a single boolean, got " + std::to_string(c.size()) + " items"));
  auto v = c[0].ToSystem();
  if (v && v->kind == ValueKind::kBoolean) return std::optional<bool>(v->boolean);
  return std::optional<bool>(true);  // a single non-boolean item counts as true
}

// The `_name` property holding the extensions of primitive property `name`, or nullptr.
const fhir::Property* ExtensionPartner(const fhir::Node& node, std::string_view name) {
  for (const fhir::Property& p : node.properties) {
    if (p.name.size() == name.size() + 1 && p.name[0] == '_' && std::string_view(p.name).substr(1) == name) return &p;
  }
  return nullptr;
}

// Calls `visit(child)` for each child of an element, or only for those named `only` (choice
// elements by their base name: valueQuantity is "value"). A primitive's `_name` extension
// travels with its value; a primitive present only as `_name` is still a child.
template <typename Visit>
void ForEachChild(const Value& item, std::optional<std::string_view> only, Visit visit) {
  if (!item.IsElement()) return;
  const fhir::Node* holders[] = {item.node, item.extension};
  for (const fhir::Node* node : holders) {
    if (node == nullptr || node->kind != fhir::JsonKind::kObject) continue;
    for (const fhir::Property& property : node->properties) {
      if (property.slot == nullptr) continue;
      const fhir::ElementDefinition& element = *property.slot->element;
      const bool is_extension = property.slot->is_primitive_extension;
      std::string_view name = element.is_choice ? std::string_view(element.name)
                                                : std::string_view(property.name).substr(is_extension ? 1 : 0);
      if (only && name != *only) continue;
      if (is_extension) {
        if (node->Find(std::string_view(property.name).substr(1)) != nullptr) continue;  // visited with its value
        for (const fhir::Node& extension : property.values) visit(Value::Element(nullptr, &extension, property.slot->type));
        continue;
      }
      const fhir::Property* partner = property.slot->type->IsPrimitive() ? ExtensionPartner(*node, property.name) : nullptr;
      for (std::size_t i = 0; i < property.values.size(); ++i) {
        const fhir::Node& value = property.values[i];
        const fhir::Node* extension = partner != nullptr && i < partner->values.size() ? &partner->values[i] : nullptr;
        if (extension != nullptr && extension->kind == fhir::JsonKind::kNull) extension = nullptr;
        visit(Value::Element(value.kind == fhir::JsonKind::kNull ? nullptr : &value, extension,
                             value.type != nullptr ? value.type : property.slot->type));
      }
    }
  }
}

void Evaluator::Children(const Value& item, Collection& out) const {
  ForEachChild(item, std::nullopt, [&](Value child) { out.push_back(std::move(child)); });
}

Collection Evaluator::Member(const Collection& focus, const std::string& name) const {
  Collection out;
  for (const Value& item : focus) {
    if (item.kind == ValueKind::kTypeInfo) {  // type().namespace, type().name
      std::size_t dot = item.text.find('.');
      if (name == "namespace") out.push_back(Value::String(item.text.substr(0, dot)));
      if (name == "name") out.push_back(Value::String(item.text.substr(dot + 1)));
      continue;
    }
    if (!item.IsElement()) continue;
    // A path may start with the type of its context: `Patient.name` on a Patient.
    if (item.type != nullptr && item.type->IsResource() && !name.empty() && std::isupper(static_cast<unsigned char>(name[0]))) {
      bool matches = false;
      for (const fhir::TypeDefinition* t = item.type; t != nullptr; t = t->base) matches |= t->name == name;
      if (matches) {
        out.push_back(item);
        continue;
      }
    }
    ForEachChild(item, name, [&](Value child) { out.push_back(std::move(child)); });
  }
  return out;
}

bool Evaluator::IsType(const Value& item, const std::string& qualified, TypeMatch match) const {
  std::string_view name = qualified;
  bool system_only = false;
  bool fhir_only = false;
  if (name.starts_with("System.")) {
    name.remove_prefix(7);
    system_only = true;
  } else if (name.starts_with("FHIR.")) {
    name.remove_prefix(5);
    fhir_only = true;
  }
  if (item.IsElement()) {
    if (system_only) return false;
    if (item.type->IsPrimitive() && match == TypeMatch::kExactPrimitive) return item.type->name == name;
    for (const fhir::TypeDefinition* t = item.type; t != nullptr; t = t->base) {
      if (t->name == name) return true;
    }
    return false;
  }
  if (fhir_only) return false;
  return SystemTypeOf(item.kind) == name;
}

Result<Collection> Evaluator::Binary(const Expr& expr, const Collection& focus, const Scope& scope) {
  const std::string& op = expr.name;
  CK_ASSIGN_OR_RETURN(Collection left, Eval(*expr.children[0], focus, scope));
  if (op == "and" || op == "or" || op == "xor" || op == "implies") {
    CK_ASSIGN_OR_RETURN(std::optional<bool> a, AsBoolean(left));
    if (op == "and" && a == false) return Boolean(false);
    if (op == "or" && a == true) return Boolean(true);
    if (op == "implies" && a == false) return Boolean(true);
    CK_ASSIGN_OR_RETURN(Collection right, Eval(*expr.children[1], focus, scope));
    CK_ASSIGN_OR_RETURN(std::optional<bool> b, AsBoolean(right));
    if (op == "and") {
      if (b == false) return Boolean(false);
      if (a && b) return Boolean(true);
      return Collection{};
    }
    if (op == "or") {
      if (b == true) return Boolean(true);
      if (a && b) return Boolean(false);
      return Collection{};
    }
    if (op == "xor") {
      if (!a || !b) return Collection{};
      return Boolean(*a != *b);
    }
    // implies with a true or empty
    if (b == true) return Boolean(true);
    if (!a) return Collection{};
    if (!b) return Collection{};
    return Boolean(false);
  }
  CK_ASSIGN_OR_RETURN(Collection right, Eval(*expr.children[1], focus, scope));
  if (op == "|") {
    Collection out;
    for (const Collection* side : {&left, &right}) {
      for (const Value& v : *side) {
        if (!Contains(out, v)) out.push_back(v);
      }
    }
    return out;
  }
  if (op == "=" || op == "!=") {
    if (left.empty() || right.empty()) return Collection{};
    auto equal = CollectionsEqual(left, right);
    if (!equal) return Collection{};
    return Boolean(op == "=" ? *equal : !*equal);
  }
  if (op == "~" || op == "!~") {
    bool equivalent = CollectionsEquivalent(left, right);
    return Boolean(op == "~" ? equivalent : !equivalent);
  }
  if (op == "<" || op == ">" || op == "<=" || op == ">=") {
    if (left.empty() || right.empty()) return Collection{};
    if (left.size() > 1 || right.size() > 1) return Err(EvalError("'" + op + "' needs single values"));
    bool error = false;
    auto c = Compare(left[0], right[0], error);
    if (error) return Err(EvalError("cannot compare " + left[0].ToString() + " with " + right[0].ToString()));
    if (!c) return Collection{};
    bool result = op == "<" ? *c < 0 : op == ">" ? *c > 0 : op == "<=" ? *c <= 0 : *c >= 0;
    return Boolean(result);
  }
  if (op == "in" || op == "contains") {
    const Collection& item = op == "in" ? left : right;
    const Collection& container = op == "in" ? right : left;
    if (item.empty()) return Collection{};
    if (item.size() > 1) return Err(EvalError("'" + op + "' needs a single item"));
    return Boolean(Contains(container, item[0]));
  }
  return Arithmetic(op, left, right);
}

Result<Collection> Evaluator::Eval(const Expr& expr, const Collection& focus, const Scope& scope) {
  switch (expr.kind) {
    case Expr::Kind::kLiteral: return Single(expr.literal);
    case Expr::Kind::kEmpty: return Collection{};
    case Expr::Kind::kThis:
      if (scope.this_value != nullptr) return Single(*scope.this_value);
      return focus;
    case Expr::Kind::kIndexVariable: return Single(Value::Integer(scope.index));
    case Expr::Kind::kTotal:
      if (scope.total == nullptr) return Err(EvalError("$total is only defined in aggregate()"));
      return *scope.total;
    case Expr::Kind::kExternal: {
      if (expr.name == "resource") return Single(resource_);
      if (expr.name == "context") return Single(context_);
      if (expr.name == "rootResource") return Single(root_resource_);
      if (expr.name == "ucum") return Single(Value::String("http://unitsofmeasure.org"));
      if (expr.name == "sct") return Single(Value::String("http://snomed.info/sct"));
      if (expr.name == "loinc") return Single(Value::String("http://loinc.org"));
      auto it = variables_.find(expr.name);
      if (it != variables_.end()) return it->second;
      if (expr.name.starts_with("vs-")) return Single(Value::String("http://hl7.org/fhir/ValueSet/" + expr.name.substr(3)));
      if (expr.name.starts_with("ext-")) return Single(Value::String("http://hl7.org/fhir/StructureDefinition/" + expr.name.substr(4)));
      return Err(EvalError("unknown environment variable %" + expr.name));
    }
    case Expr::Kind::kMember: {
      if (!expr.has_target) {
        if (scope.this_value == nullptr) return Member(focus, expr.name);
        return Member(Single(*scope.this_value), expr.name);
      }
      CK_ASSIGN_OR_RETURN(Collection target, Eval(*expr.children[0], focus, scope));
      return Member(target, expr.name);
    }
    case Expr::Kind::kFunction: {
      if (!expr.has_target) {
        if (scope.this_value == nullptr) return Call(expr, focus, focus, scope);
        return Call(expr, Single(*scope.this_value), focus, scope);
      }
      CK_ASSIGN_OR_RETURN(Collection target, Eval(*expr.children[0], focus, scope));
      return Call(expr, target, focus, scope);
    }
    case Expr::Kind::kIndex: {
      CK_ASSIGN_OR_RETURN(Collection target, Eval(*expr.children[0], focus, scope));
      CK_ASSIGN_OR_RETURN(Collection index, Eval(*expr.children[1], focus, scope));
      if (index.size() != 1 || index[0].kind != ValueKind::kInteger) return Err(EvalError("an index must be one integer"));
      std::int64_t i = index[0].integer;
      if (i < 0 || i >= static_cast<std::int64_t>(target.size())) return Collection{};
      return Single(target[static_cast<std::size_t>(i)]);
    }
    case Expr::Kind::kUnary: {
      CK_ASSIGN_OR_RETURN(Collection operand, Eval(*expr.children[0], focus, scope));
      if (expr.name == "+" || operand.empty()) return operand;
      if (operand.size() > 1) return Err(EvalError("unary minus needs a single value"));
      auto v = operand[0].ToSystem();
      if (!v) return Collection{};
      if (v->kind == ValueKind::kInteger) return Single(Value::Integer(-v->integer));
      if (v->kind == ValueKind::kDecimal) return Single(Value::Decimal(-v->decimal, v->decimal_places));
      if (v->kind == ValueKind::kQuantity) return Single(Value::Quantity(-v->decimal, v->decimal_places, v->text));
      return Err(EvalError("unary minus needs a number"));
    }
    case Expr::Kind::kBinary: return Binary(expr, focus, scope);
    case Expr::Kind::kType: {
      CK_ASSIGN_OR_RETURN(Collection operand, Eval(*expr.children[0], focus, scope));
      if (expr.name == "is") {
        if (operand.empty()) return Collection{};
        if (operand.size() > 1) return Err(EvalError("'is' needs a single item"));
        return Boolean(IsType(operand[0], expr.type_name, TypeMatch::kSpecializations));
      }
      if (operand.size() > 1) return Err(EvalError("'as' needs a single item"));
      Collection out;
      for (const Value& v : operand) {
        if (IsType(v, expr.type_name, TypeMatch::kExactPrimitive)) out.push_back(v);
      }
      return out;
    }
  }
  return Err(EvalError("unsupported expression"));
}

Result<Expression> Expression::Compile(std::string_view text) {
  CK_ASSIGN_OR_RETURN(std::unique_ptr<Expr> root, Parse(text));
  return Expression(std::shared_ptr<const Expr>(std::move(root)));
}

Result<Expression> Expression::Compile(std::string_view text, const fhir::Definitions& definitions,
                                       const fhir::TypeDefinition& context, TypeCheck mode) {
  CK_ASSIGN_OR_RETURN(std::unique_ptr<Expr> root, Parse(text));
  CK_RETURN_IF_ERROR(CheckTypes(*root, definitions, context, mode));
  return Expression(std::shared_ptr<const Expr>(std::move(root)));
}

std::optional<Value> Evaluator::Resolve(std::string_view reference) const {
  if (reference.starts_with('#')) {  // a contained resource
    for (const Value& contained : Member(Single(resource_), "contained")) {
      for (const Value& id : Member(Single(contained), "id")) {
        if (id.ToString() == reference.substr(1)) return contained;
      }
    }
    return std::nullopt;
  }
  const std::string_view target = reference.substr(0, reference.find("/_history/"));
  // An entry of the Bundle being evaluated: by its fullUrl, or a relative Type/id by its resource.
  if (resource_.type->name == "Bundle") {
    for (const Value& entry : Member(Single(resource_), "entry")) {
      Collection resource = Member(Single(entry), "resource");
      if (resource.empty()) continue;
      for (const Value& full_url : Member(Single(entry), "fullUrl")) {
        if (full_url.ToString() == target) return resource[0];
      }
      for (const Value& id : Member(resource, "id")) {
        if (resource[0].type->name + "/" + id.ToString() == target) return resource[0];
      }
    }
  }
  if (resolver_) {
    if (const fhir::Resource* found = resolver_(reference)) return Value::Element(&found->root(), nullptr, &found->type());
  }
  // Type/id or [base/]Type/id[/_history/n] that nobody could find: a stand-in of the type.
  const std::size_t slash = target.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  const std::string_view before = target.substr(0, slash);
  const std::size_t type_start = before.rfind('/') == std::string_view::npos ? 0 : before.rfind('/') + 1;
  if (const fhir::TypeDefinition* type = definitions_.FindResourceType(before.substr(type_start))) {
    return Value::Element(nullptr, nullptr, type);
  }
  return std::nullopt;
}

Result<Collection> Expression::Evaluate(const fhir::Resource& resource, const fhir::Definitions& definitions,
                                        const std::map<std::string, Collection>& variables,
                                        const ReferenceResolver& resolver) const {
  Value root = Value::Element(&resource.root(), nullptr, &resource.type());
  Evaluator evaluator(definitions, root, variables, resolver);
  return evaluator.Eval(*root_, Collection{root}, Scope{});
}

Result<Collection> Expression::EvaluateAt(const fhir::Node& resource, const fhir::Node& focus, const fhir::Definitions& definitions,
                                          const fhir::Node* root_resource) const {
  static const std::map<std::string, Collection> kNoVariables;
  static const ReferenceResolver kNoResolver;
  Value root = Value::Element(&resource, nullptr, resource.type);
  std::optional<Value> container;
  if (root_resource != nullptr) container = Value::Element(root_resource, nullptr, root_resource->type);
  Value start = Value::Element(&focus, nullptr, focus.type);
  Evaluator evaluator(definitions, root, kNoVariables, kNoResolver, container, start);
  return evaluator.Eval(*root_, Collection{start}, Scope{});
}

}  // namespace ck::fhirpath
