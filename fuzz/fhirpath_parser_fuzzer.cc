// libFuzzer target: FHIRPath compilation (parse + type check) and evaluation of arbitrary text
// against a small Patient. Any crash, hang or sanitizer report is a bug; a refused expression is
// fine. Run with `make fuzz`.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fhir/json_reader.h"
#include "fhirpath/expression.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ck;
  static const fhir::Definitions& defs = fhir::Definitions::R4();
  static const fhir::Resource patient = *fhir::ReadResource(
      R"({"resourceType":"Patient","id":"p","active":true,"birthDate":"1974-12-25","name":[{"family":"F","given":["A","B"]}]})", defs);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto expression = fhirpath::Expression::Compile(text, defs, patient.type());
  if (expression) (void)expression->Evaluate(patient, defs);
  return 0;
}
