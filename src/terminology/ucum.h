#pragma once
// UCUM, the Unified Code for Units of Measure (its case-sensitive codes), which FHIR uses for
// every Quantity: a unit expression such as "mg/dL", "10*3/uL", "kg.m/s2", "mm[Hg]" or
// "{cells}/uL" is parsed into its size in UCUM's seven base units (m, s, g, rad, K, C, cd), so that
// quantities in different units can be compared and converted. The atoms and prefixes come from
// the UCUM table, generated at build time (tools/gen_ucum.mjs) from the npm package
// @lhncbc/ucum-lhc, which resolves every UCUM unit to the base units.
//
// Besides ratio units, UCUM has arbitrary units ([IU], [arb'U]: commensurable only with the same
// arbitrary units, though they may be combined: "[IU]/L" converts to "[IU]/mL") and special
// units on other scales: the temperatures Cel, [degF] and [degRe] convert to K and to each other
// (affinely); the others ([pH], B, Np, ...) compare only with themselves. Special units must
// stand alone, without an exponent.
// Thread safety: the table is immutable after first use; functions are pure.

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "util/status.h"

namespace ck::terminology {

// Exponents of the base units m, s, g, rad, K, C, cd, in that order.
using UcumDimension = std::array<std::int8_t, 7>;

struct UcumUnit {
  // In base units, one of this unit is `factor` (for a temperature: base = value * factor + offset).
  double factor = 1;
  double offset = 0;
  UcumDimension dimension{};
  // Exponents of the arbitrary units in the expression, by code.
  std::map<std::string, int, std::less<>> arbitrary;
  // The code of a special unit other than the temperatures (e.g. "[pH]"), which converts only to
  // itself; empty otherwise.
  std::string special;
};

// Parses a UCUM expression (case-sensitive syntax; "" and "1" are unity). Errors: kInvalid with
// what is wrong and where (unknown unit, malformed expression, a special unit combined or raised
// to a power, an exponent out of range).
Result<UcumUnit> ParseUcum(std::string_view expression);

// Whether values in `from` can be converted to `to`.
bool Commensurable(const UcumUnit& from, const UcumUnit& to);

// `value` in `from`, expressed in `to`. REQUIRES: Commensurable(from, to).
double ConvertUcum(double value, const UcumUnit& from, const UcumUnit& to);

// A text that two units share exactly when they are commensurable ("g.m-3" for mg/dL and g/L),
// and `value` of `unit` in the base units of that key: how search compares quantities given in
// different units.
std::string UcumCanonicalKey(const UcumUnit& unit);
double ToUcumBase(double value, const UcumUnit& unit);

}  // namespace ck::terminology
