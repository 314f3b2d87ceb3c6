// libFuzzer target: the FHIR JSON reader on arbitrary bytes (it reads every request body).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fhir/json_reader.h"
#include "fhir/json_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ck;
  static const fhir::Definitions& defs = fhir::Definitions::R4();
  auto resource = fhir::ReadResource(std::string_view(reinterpret_cast<const char*>(data), size), defs);
  if (resource) {
    // What was accepted must write back and read again.
    std::string written = fhir::WriteJson(resource->root());
    if (!fhir::ReadResource(written, defs)) __builtin_trap();
  }
  return 0;
}
