#pragma once
// FHIRPath values. A collection holds items that are either an element of a FHIR resource tree
// (with its FHIR type; a primitive's `_name` extension part travels with it) or a System value
// (Boolean, Integer, Decimal, String, Date, DateTime, Time, Quantity). Dates and times keep their
// precision, since FHIRPath compares them only up to the precision both sides have.
// Thread safety: plain values; tree elements are borrowed and must outlive the collection.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fhir/resource.h"

namespace ck::fhirpath {

enum class ValueKind : std::uint8_t {
  kElement, kBoolean, kInteger, kDecimal, kString, kDate, kDateTime, kTime, kQuantity,
  kTypeInfo,  // the result of type(): `text` is "Namespace.Name"
};

// A date, date-time or time of some precision. Fields beyond the precision are zero.
struct Temporal {
  // 0 year, 1 month, 2 day, 3 hour, 4 minute, 5 second, 6 millisecond (for a Time, 3.. only)
  int precision = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millisecond = 0;
  std::optional<int> zone_minutes;  // offset from UTC, when given
};

struct Value {
  ValueKind kind = ValueKind::kBoolean;
  // kElement: the value node, the extension node of a primitive (or null), its FHIR type.
  const fhir::Node* node = nullptr;
  const fhir::Node* extension = nullptr;
  const fhir::TypeDefinition* type = nullptr;
  bool boolean = false;
  std::int64_t integer = 0;
  double decimal = 0;        // kDecimal and the quantity value
  int decimal_places = 0;    // digits after the point as written, for precision-aware output
  std::string text;          // kString; the unit of a quantity; lexical form of temporals
  Temporal temporal;

  static Value Boolean(bool b);
  static Value Integer(std::int64_t i);
  static Value Decimal(double d, int places);
  static Value String(std::string s);
  static Value Quantity(double value, int places, std::string unit);
  static Value Element(const fhir::Node* node, const fhir::Node* extension, const fhir::TypeDefinition* type);

  bool IsElement() const { return kind == ValueKind::kElement; }
  // The System value of a primitive element (integer, string, date...), or nullopt for complex
  // elements and primitives with only extensions. System values convert to themselves.
  std::optional<Value> ToSystem() const;
  // Output form for tests and `toString()`.
  std::string ToString() const;
};

using Collection = std::vector<Value>;

// Number text to a value without exceptions: nullopt for malformed text or out of range
// (untrusted input reaches these).
std::optional<double> ToDouble(std::string_view text);
std::optional<std::int64_t> ToInt64(std::string_view text, int base = 10);

// Parses a FHIRPath/FHIR date, dateTime or time literal body (without '@' / '@T').
std::optional<Temporal> ParseDate(std::string_view text);      // YYYY[-MM[-DD]]
std::optional<Temporal> ParseDateTime(std::string_view text);  // date[Thh[:mm[:ss[.fff]]]][zone]
std::optional<Temporal> ParseTime(std::string_view text);      // hh[:mm[:ss[.fff]]]

// The lexical form of a temporal at its precision ("2014-01", "10:30:00.000", with the zone of
// a dateTime that has a time of day).
std::string FormatTemporal(const Temporal& t, ValueKind kind);

// Whether `unit` is a FHIRPath calendar duration keyword (year, months, ...).
bool IsCalendarKeyword(std::string_view unit);

// The UCUM code for a quantity's unit: calendar keywords up to weeks as their UCUM units ("days"
// is 'd'), no unit as '1'. Years and months have no fixed length: they stay words, which compare
// only with themselves (not with UCUM 'a' or 'mo').
std::string UcumCode(const std::string& unit);

// Two quantities' values in the first one's unit (UCUM conversion), or nullopt if their units are
// not commensurable.
std::optional<std::pair<double, double>> InFirstUnit(const Value& a, const Value& b);

// Whether quantities in these units can be compared (same unit, or commensurable UCUM units).
bool UnitsComparable(const std::string& a, const std::string& b);

// FHIRPath equality (`=`): true, false, or empty (nullopt) when precisions differ.
std::optional<bool> Equal(const Value& a, const Value& b);
// FHIRPath equivalence (`~`).
bool Equivalent(const Value& a, const Value& b);
// Ordering for < > <= >=: negative, zero, positive; nullopt if not comparable (empty result).
// Sets `error` when the types cannot be compared at all.
std::optional<int> Compare(const Value& a, const Value& b, bool& error);

}  // namespace ck::fhirpath
