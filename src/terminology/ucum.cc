// The UCUM table (generated, kUcumTable) has one line per prefix or atom, fields separated by tabs:
//   P <code> <factor>
//   U <code> <factor in base units> <7 comma-separated base exponents> <metric 0|1> <kind>
// where kind is "-" for a ratio unit, "A" for an arbitrary unit, "S:<conversion>" for a special
// unit. The parser below follows the grammar of the UCUM specification (section 2.x):
//   main-term  := "/" term | term
//   term       := component (("." | "/") component)*        (left to right)
//   component  := annotatable annotation? | annotation | factor | "(" term ")"
//   annotatable:= simple-unit exponent?                     simple-unit := prefix? atom
#include "terminology/ucum.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <unordered_map>
#include <vector>

#include "util/text.h"

namespace ck::terminology {

extern const char kUcumTable[];

namespace {

enum class AtomKind { kRatio, kArbitrary, kSpecial };

struct Atom {
  double factor = 1;
  UcumDimension dimension{};
  bool metric = false;
  AtomKind kind = AtomKind::kRatio;
  std::string_view conversion;  // for special units
};

// Temperatures on interval scales: base (K) = value * factor + offset.
struct Affine {
  std::string_view conversion;
  double factor;
  double offset;
};
constexpr Affine kTemperatures[] = {
    {"Cel", 1, 273.15}, {"degF", 5.0 / 9.0, 459.67 * 5.0 / 9.0}, {"degRe", 1.25, 273.15}};

struct Table {
  std::unordered_map<std::string_view, Atom> atoms;
  std::vector<std::pair<std::string_view, double>> prefixes;  // longest first
};

double Number(std::string_view text) {
  double value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// The generated table is known-good (it is checked by the tests); lines it cannot read are skipped.
const Table& UcumTable() {
  static const Table table = [] {
    Table t;
    for (std::string_view line : Split(kUcumTable, '\n')) {
      std::vector<std::string_view> f = Split(line, '\t');
      if (f.size() == 3 && f[0] == "P") {
        t.prefixes.emplace_back(f[1], Number(f[2]));
      } else if (f.size() == 6 && f[0] == "U") {
        Atom atom;
        atom.factor = Number(f[2]);
        std::vector<std::string_view> exponents = Split(f[3], ',');
        for (std::size_t i = 0; i < atom.dimension.size() && i < exponents.size(); ++i) {
          atom.dimension[i] = static_cast<std::int8_t>(Number(exponents[i]));
        }
        atom.metric = f[4] == "1";
        if (f[5] == "A") atom.kind = AtomKind::kArbitrary;
        if (f[5].starts_with("S:")) {
          atom.kind = AtomKind::kSpecial;
          atom.conversion = f[5].substr(2);
        }
        t.atoms.emplace(f[1], atom);
      }
    }
    std::stable_sort(t.prefixes.begin(), t.prefixes.end(),
                     [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
    return t;
  }();
  return table;
}

constexpr int kMaxExponent = 100;
constexpr int kMaxNesting = 16;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<UcumUnit> MainTerm() {
    UcumUnit unit;
    if (Peek() == '/') {
      ++pos_;
      CK_ASSIGN_OR_RETURN(UcumUnit divisor, Term());
      CK_ASSIGN_OR_RETURN(unit, Combine(unit, divisor, -1));
    } else {
      CK_ASSIGN_OR_RETURN(unit, Term());
    }
    if (pos_ < text_.size()) {
      const char c = text_[pos_];
      return Err(Problem(c > ' ' && c <= '~' ? "unexpected '" + std::string(1, c) + "'" : std::string("unexpected character")));
    }
    return unit;
  }

 private:
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  Status Problem(const std::string& what) const {
    return Status::Invalid("invalid UCUM unit '" + std::string(text_) + "': " + what + " at position " +
                           std::to_string(pos_ + 1));
  }

  Result<UcumUnit> Term() {
    CK_ASSIGN_OR_RETURN(UcumUnit unit, Component());
    while (Peek() == '.' || Peek() == '/') {
      int sign = text_[pos_++] == '.' ? 1 : -1;
      CK_ASSIGN_OR_RETURN(UcumUnit next, Component());
      CK_ASSIGN_OR_RETURN(unit, Combine(unit, next, sign));
    }
    return unit;
  }

  Result<UcumUnit> Component() {
    if (Peek() == '(') {
      if (++depth_ > kMaxNesting) return Err(Problem("parentheses nested too deeply"));
      ++pos_;
      CK_ASSIGN_OR_RETURN(UcumUnit inner, Term());
      --depth_;
      if (Peek() != ')') return Err(Problem("missing ')'"));
      ++pos_;
      return inner;
    }
    if (Peek() == '{') {
      CK_RETURN_IF_ERROR(Annotation());
      return UcumUnit{};
    }
    CK_ASSIGN_OR_RETURN(UcumUnit unit, Annotatable());
    if (Peek() == '{') CK_RETURN_IF_ERROR(Annotation());
    return unit;
  }

  // "{...}": printable ASCII other than braces; it means nothing to the unit's size.
  Status Annotation() {
    std::size_t close = text_.find('}', pos_);
    if (close == std::string_view::npos) return Problem("unclosed '{'");
    for (std::size_t i = pos_ + 1; i < close; ++i) {
      if (text_[i] < '!' || text_[i] > '~' || text_[i] == '{') return Problem("invalid character in an annotation");
    }
    pos_ = close + 1;
    return Status::Ok();
  }

  // A prefixed atom or a factor, with its exponent. Square brackets are part of an atom and may
  // hold any of the delimiters.
  Result<UcumUnit> Annotatable() {
    const std::size_t start = pos_;
    std::size_t last_bracket = std::string_view::npos;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '[') {
        std::size_t close = text_.find(']', pos_);
        if (close == std::string_view::npos) return Err(Problem("unclosed '['"));
        pos_ = close + 1;
        last_bracket = pos_;
        continue;
      }
      if (c == '.' || c == '/' || c == '(' || c == ')' || c == '{' || c == '}' || c == ']' ||
          static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) > '~') {
        break;
      }
      ++pos_;
    }
    std::string_view token = text_.substr(start, pos_ - start);
    if (token.empty()) return Err(Problem("expected a unit"));
    if (token.find_first_not_of("0123456789") == std::string_view::npos) {
      UcumUnit factor;
      factor.factor = Number(token);
      if (!std::isfinite(factor.factor) || factor.factor == 0) return Err(Problem("factor out of range"));
      return factor;
    }
    // The exponent: trailing digits with an optional sign, after any bracket.
    std::size_t digits = token.size();
    const std::size_t floor = last_bracket == std::string_view::npos ? 0 : last_bracket - start;
    while (digits > floor && token[digits - 1] >= '0' && token[digits - 1] <= '9') --digits;
    std::size_t exponent_start = digits;
    if (digits < token.size() && digits > floor && (token[digits - 1] == '+' || token[digits - 1] == '-')) --exponent_start;
    int exponent = 1;
    if (exponent_start > 0 && exponent_start < token.size()) {
      std::string_view text = token.substr(exponent_start);
      if (text.front() == '+') text.remove_prefix(1);
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), exponent);
      if (error != std::errc() || end != text.data() + text.size() || exponent > kMaxExponent || exponent < -kMaxExponent) {
        return Err(Problem("exponent out of range"));
      }
    } else {
      exponent_start = token.size();
    }
    CK_ASSIGN_OR_RETURN(UcumUnit unit, SimpleUnit(token.substr(0, exponent_start)));
    if (exponent == 1) return unit;
    if (!unit.special.empty() || unit.offset != 0) return Err(Problem("a special unit cannot have an exponent"));
    unit.factor = std::pow(unit.factor, exponent);
    for (auto& d : unit.dimension) d = static_cast<std::int8_t>(d * exponent);
    for (auto& [code, e] : unit.arbitrary) e *= exponent;
    if (!std::isfinite(unit.factor) || unit.factor == 0) return Err(Problem("unit too large or too small"));
    return unit;
  }

  Result<UcumUnit> SimpleUnit(std::string_view code) {
    const Table& table = UcumTable();
    if (auto it = table.atoms.find(code); it != table.atoms.end()) return FromAtom(code, it->second, 1, false);
    for (const auto& [prefix, factor] : table.prefixes) {
      if (code.size() <= prefix.size() || !code.starts_with(prefix)) continue;
      auto it = table.atoms.find(code.substr(prefix.size()));
      if (it != table.atoms.end() && it->second.metric) return FromAtom(code, it->second, factor, true);
    }
    return Err(Problem("unknown unit '" + std::string(code) + "'"));
  }

  static UcumUnit FromAtom(std::string_view code, const Atom& atom, double prefix, bool prefixed) {
    UcumUnit unit;
    unit.factor = atom.factor * prefix;
    unit.dimension = atom.dimension;
    if (atom.kind == AtomKind::kArbitrary) unit.arbitrary.emplace(std::string(code), 1);
    if (atom.kind == AtomKind::kSpecial) {
      for (const Affine& t : kTemperatures) {
        if (!prefixed && t.conversion == atom.conversion) {
          unit.factor = t.factor;
          unit.offset = t.offset;
          return unit;
        }
      }
      unit.special = std::string(code);
    }
    return unit;
  }

  Result<UcumUnit> Combine(UcumUnit left, const UcumUnit& right, int sign) {
    if (!left.special.empty() || !right.special.empty() || left.offset != 0 || right.offset != 0) {
      return Err(Problem("a special unit cannot be combined with others"));
    }
    left.factor = sign > 0 ? left.factor * right.factor : left.factor / right.factor;
    for (std::size_t i = 0; i < left.dimension.size(); ++i) {
      int d = left.dimension[i] + sign * right.dimension[i];
      if (d > kMaxExponent || d < -kMaxExponent) return Err(Problem("exponent out of range"));
      left.dimension[i] = static_cast<std::int8_t>(d);
    }
    for (const auto& [code, e] : right.arbitrary) {
      int& total = left.arbitrary[code];
      total += sign * e;
      if (total == 0) left.arbitrary.erase(code);
    }
    if (!std::isfinite(left.factor) || left.factor == 0) return Err(Problem("unit too large or too small"));
    return left;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<UcumUnit> ParseUcum(std::string_view expression) {
  if (expression.empty()) return UcumUnit{};
  return Parser(expression).MainTerm();
}

bool Commensurable(const UcumUnit& from, const UcumUnit& to) {
  if (!from.special.empty() || !to.special.empty()) return from.special == to.special;
  return from.dimension == to.dimension && from.arbitrary == to.arbitrary;
}

double ConvertUcum(double value, const UcumUnit& from, const UcumUnit& to) {
  if (!from.special.empty()) return value;
  return (value * from.factor + from.offset - to.offset) / to.factor;
}

std::string UcumCanonicalKey(const UcumUnit& unit) {
  if (!unit.special.empty()) return unit.special;
  static constexpr const char* kBase[] = {"m", "s", "g", "rad", "K", "C", "cd"};
  std::string key;
  auto add = [&key](std::string_view atom, int exponent) {
    if (exponent == 0) return;
    if (!key.empty()) key += '.';
    key += atom;
    if (exponent != 1) key += std::to_string(exponent);
  };
  for (std::size_t i = 0; i < unit.dimension.size(); ++i) add(kBase[i], unit.dimension[i]);
  for (const auto& [code, exponent] : unit.arbitrary) add(code, exponent);
  return key.empty() ? "1" : key;
}

double ToUcumBase(double value, const UcumUnit& unit) {
  if (!unit.special.empty()) return value;
  return value * unit.factor + unit.offset;
}

}  // namespace ck::terminology
