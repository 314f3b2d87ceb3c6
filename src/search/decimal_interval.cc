#include "search/decimal_interval.h"

#include <charconv>
#include <cmath>
#include <string>

namespace ck::search {

std::optional<DecimalInterval> ReadDecimalInterval(std::string_view text) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  int exponent = 0;
  std::string_view mantissa = text;
  if (std::size_t e = text.find_first_of("eE"); e != std::string_view::npos) {
    std::string_view digits = text.substr(e + 1);
    if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
    if (std::from_chars(digits.data(), digits.data() + digits.size(), exponent).ec != std::errc()) return std::nullopt;
    mantissa = text.substr(0, e);
  }
  std::size_t point = mantissa.find('.');
  int places = point == std::string_view::npos ? 0 : static_cast<int>(mantissa.size() - point - 1);
  double half = 0.5 * std::pow(10.0, exponent - places);
  return DecimalInterval{value, value - half, value + half};
}

}  // namespace ck::search
