#pragma once
// A decimal as FHIR search reads it: its value and the interval its written precision implies
// ("1.5" is [1.45, 1.55), "100" is [99.5, 100.5), "1.50e2" is [149.5, 150.5)). The index and the
// search values use the same reading.
// Thread safety: a pure function.

#include <optional>
#include <string_view>

namespace ck::search {

struct DecimalInterval {
  double value;
  double low;
  double high;
};

// nullopt if `text` is not a decimal (JSON number syntax, without exponent limits).
std::optional<DecimalInterval> ReadDecimalInterval(std::string_view text);

}  // namespace ck::search
