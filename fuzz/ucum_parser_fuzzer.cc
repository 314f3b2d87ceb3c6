// libFuzzer target: UCUM unit expressions (they arrive in every Quantity.code and FHIRPath
// quantity literal). Any crash, hang or sanitizer report is a bug; a refused unit is fine.
// Run with `make fuzz`.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "terminology/ucum.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ck::terminology;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto unit = ParseUcum(text);
  auto metre = ParseUcum("m");
  if (unit && Commensurable(*unit, *metre)) (void)ConvertUcum(1.5, *unit, *metre);
  return 0;
}
