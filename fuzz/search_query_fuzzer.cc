// libFuzzer target: search requests (`?name:modifier=value&...`, which any client sends), read
// into a SearchQuery for a type, a compartment and all of their parameters' kinds. Any crash,
// hang or sanitizer report is a bug; a refused parameter is fine. Run with `make fuzz`.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "search/query_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ck::search::SearchRequest request;
  request.type = size % 2 == 0 ? "Observation" : "Patient";
  if (size % 3 == 0) {
    request.compartment_type = "Patient";
    request.compartment_id = "p1";
  }
  request.base_url = "http://127.0.0.1:8080/fhir";
  request.strict = size % 5 == 0;
  // Parameters separated by '&', names from values by the first '='.
  while (!text.empty()) {
    std::size_t end = text.find('&');
    std::string_view pair = text.substr(0, end);
    std::size_t equals = pair.find('=');
    request.parameters.emplace_back(std::string(pair.substr(0, equals)),
                                    equals == std::string_view::npos ? "" : std::string(pair.substr(equals + 1)));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  (void)ck::search::ParseSearch(request);
  return 0;
}
