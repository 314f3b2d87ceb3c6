#pragma once
// Lexical checks for FHIR R4 primitive values, one per primitive type, equivalent to the
// regular expressions in the R4 definitions plus the rules the spec states in prose (dates SHALL
// be valid calendar dates; integers are 32-bit; strings SHALL NOT be empty or exceed 1 MB).
// Hand-written scanners rather than std::regex: linear time and no recursion on hostile input.
// Thread safety: pure functions.

#include <optional>
#include <string>
#include <string_view>

namespace ck::fhir {

// Checks `text` (the JSON string content, or the number's source text) as a value of the
// primitive type named `type_name` ("date", "id", ...). Returns a message saying what is wrong,
// or nullopt if valid. Types without a specific rule (string, markdown, ...) only need to be
// non-empty and under 1 MiB.
std::optional<std::string> CheckPrimitive(std::string_view type_name, std::string_view text);

}  // namespace ck::fhir
