#include "fhir/primitive_syntax.h"

#include <cstdint>

#include "fhir/narrative_xhtml.h"

namespace ck::fhir {
namespace {

constexpr std::size_t kMaxStringBytes = 1u << 20;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// A cursor over the text with small matchers; each returns false without moving on mismatch.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}
  bool AtEnd() const { return pos_ == text_.size(); }
  bool Peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool Take(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }
  bool TakeLiteral(std::string_view literal) {
    if (text_.substr(pos_).substr(0, literal.size()) != literal) return false;
    pos_ += literal.size();
    return true;
  }
  // Exactly `count` digits, returned as a number.
  bool TakeDigits(int count, int& value) {
    if (pos_ + count > text_.size()) return false;
    int v = 0;
    for (int i = 0; i < count; ++i) {
      char c = text_[pos_ + i];
      if (!IsDigit(c)) return false;
      v = v * 10 + (c - '0');
    }
    pos_ += count;
    value = v;
    return true;
  }
  // One or more digits.
  bool TakeDigitRun() {
    std::size_t start = pos_;
    while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    return pos_ > start;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

enum class DatePrecision { kYear, kMonth, kDay };

// YYYY[-MM[-DD]]; year 0001-9999, valid month and day. Sets the precision found.
bool ScanDate(Scanner& s, DatePrecision& precision) {
  int year = 0;
  int month = 0;
  int day = 0;
  if (!s.TakeDigits(4, year) || year == 0) return false;
  precision = DatePrecision::kYear;
  if (!s.Take('-')) return true;
  if (!s.TakeDigits(2, month) || month < 1 || month > 12) return false;
  precision = DatePrecision::kMonth;
  if (!s.Take('-')) return true;
  if (!s.TakeDigits(2, day) || day < 1 || day > DaysInMonth(year, month)) return false;
  precision = DatePrecision::kDay;
  return true;
}

// hh:mm:ss[.fff...]
bool ScanTime(Scanner& s) {
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!s.TakeDigits(2, hour) || hour > 23 || !s.Take(':')) return false;
  if (!s.TakeDigits(2, minute) || minute > 59 || !s.Take(':')) return false;
  if (!s.TakeDigits(2, second) || second > 60) return false;
  if (s.Take('.') && !s.TakeDigitRun()) return false;
  return true;
}

// Z or (+|-)hh:mm with at most 14:00.
bool ScanZone(Scanner& s) {
  if (s.Take('Z')) return true;
  if (!s.Take('+') && !s.Take('-')) return false;
  int hour = 0;
  int minute = 0;
  if (!s.TakeDigits(2, hour) || !s.Take(':') || !s.TakeDigits(2, minute)) return false;
  return minute <= 59 && (hour < 14 || (hour == 14 && minute == 0));
}

bool IsDate(std::string_view text) {
  Scanner s(text);
  DatePrecision precision;
  return ScanDate(s, precision) && s.AtEnd();
}

bool IsDateTime(std::string_view text, bool require_full) {
  Scanner s(text);
  DatePrecision precision;
  if (!ScanDate(s, precision)) return false;
  if (s.AtEnd()) return !require_full;
  if (precision != DatePrecision::kDay || !s.Take('T')) return false;
  return ScanTime(s) && ScanZone(s) && s.AtEnd();
}

bool IsTime(std::string_view text) {
  Scanner s(text);
  return ScanTime(s) && s.AtEnd();
}

// -?(0|[1-9][0-9]*) within [min, max].
bool IsInteger(std::string_view text, std::int64_t min, std::int64_t max) {
  bool negative = !text.empty() && text[0] == '-';
  std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || digits.size() > 10) return false;
  if (digits.size() > 1 && digits[0] == '0') return false;
  std::int64_t value = 0;
  for (char c : digits) {
    if (!IsDigit(c)) return false;
    value = value * 10 + (c - '0');
  }
  if (negative) value = -value;
  return value >= min && value <= max;
}

bool IsId(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || IsDigit(c) || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// [^\s]+(\s[^\s]+)*: no leading, trailing or doubled whitespace.
bool IsCode(std::string_view text) {
  if (text.empty() || IsSpace(text.front()) || IsSpace(text.back())) return false;
  for (std::size_t i = 1; i < text.size(); ++i) {
    if (IsSpace(text[i]) && IsSpace(text[i - 1])) return false;
  }
  return true;
}

bool HasNoWhitespace(std::string_view text) {
  for (char c : text) {
    if (IsSpace(c)) return false;
  }
  return true;
}

bool IsOid(std::string_view text) {
  Scanner s(text);
  if (!s.TakeLiteral("urn:oid:")) return false;
  int first = 0;
  if (!s.TakeDigits(1, first) || first > 2) return false;
  bool any = false;
  while (s.Take('.')) {
    if (s.Take('0')) {
      if (s.Peek('0') || (!s.AtEnd() && !s.Peek('.'))) return false;
    } else if (!s.TakeDigitRun()) {
      return false;
    }
    any = true;
  }
  return any && s.AtEnd();
}

bool IsUuid(std::string_view text) {
  constexpr std::string_view kPrefix = "urn:uuid:";
  if (!text.starts_with(kPrefix) || text.size() != kPrefix.size() + 36) return false;
  std::string_view hex = text.substr(kPrefix.size());
  for (std::size_t i = 0; i < hex.size(); ++i) {
    bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    char c = hex[i];
    bool ok = dash_position ? c == '-' : (IsDigit(c) || (c >= 'a' && c <= 'f'));
    if (!ok) return false;
  }
  return true;
}

bool IsBase64(std::string_view text) {
  std::size_t symbols = 0;
  for (char c : text) {
    if (IsSpace(c)) continue;
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || IsDigit(c) || c == '+' || c == '/' || c == '=';
    if (!ok) return false;
    ++symbols;
  }
  return symbols > 0 && symbols % 4 == 0;
}

}  // namespace

std::optional<std::string> CheckPrimitive(std::string_view type_name, std::string_view text) {
  if (text.empty()) return "empty values are not allowed (leave the element out instead)";
  auto fail = [&](std::string_view what) { return std::string("not a valid ") + std::string(type_name) + ": " + std::string(what); };
  const std::string_view t = type_name;
  if (t == "integer") {
    if (!IsInteger(text, INT32_MIN, INT32_MAX)) return fail("expected a whole number in the 32-bit range");
  } else if (t == "unsignedInt") {
    if (!IsInteger(text, 0, INT32_MAX) || text[0] == '-') return fail("expected a whole number from 0 to 2147483647");
  } else if (t == "positiveInt") {
    if (!IsInteger(text, 1, INT32_MAX) || text[0] == '-') return fail("expected a whole number from 1 to 2147483647");
  } else if (t == "date") {
    if (!IsDate(text)) return fail("expected YYYY, YYYY-MM or YYYY-MM-DD with a real calendar date");
  } else if (t == "dateTime") {
    if (!IsDateTime(text, false)) return fail("expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.sss](Z|+hh:mm)");
  } else if (t == "instant") {
    if (!IsDateTime(text, true)) return fail("expected YYYY-MM-DDThh:mm:ss[.sss](Z|+hh:mm)");
  } else if (t == "time") {
    if (!IsTime(text)) return fail("expected hh:mm:ss[.sss]");
  } else if (t == "id") {
    if (!IsId(text)) return fail("expected 1 to 64 of A-Z a-z 0-9 - .");
  } else if (t == "code") {
    if (!IsCode(text)) return fail("no leading, trailing or repeated whitespace allowed");
  } else if (t == "uri" || t == "url" || t == "canonical") {
    if (!HasNoWhitespace(text)) return fail("whitespace is not allowed");
  } else if (t == "oid") {
    if (!IsOid(text)) return fail("expected urn:oid: followed by a dotted number");
  } else if (t == "uuid") {
    if (!IsUuid(text)) return fail("expected urn:uuid: followed by a lower-case UUID");
  } else if (t == "base64Binary") {
    if (!IsBase64(text)) return fail("expected base64 text");
    return std::nullopt;
  }
  if (text.size() > kMaxStringBytes) return fail("longer than 1 MiB");
  if (t == "xhtml") {
    if (auto problem = CheckNarrativeXhtml(text, NarrativeRules::kAllButTxt2)) return fail(*problem);
  }
  return std::nullopt;
}

}  // namespace ck::fhir
