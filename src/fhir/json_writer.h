#pragma once
// Writes a resource tree as FHIR JSON: members in tree order, primitives in their stored lexical
// form (numbers byte-identical to what was read), strings escaped per RFC 8259 with non-ASCII
// UTF-8 passed through. Compact by default; `pretty` indents by two spaces.
// Thread safety: pure functions.

#include <string>

#include "fhir/resource.h"

namespace ck::fhir {

struct WriteOptions {
  bool pretty = false;  // default: compact
};

std::string WriteJson(const Node& root, const WriteOptions& options = {});

// Re-indents valid JSON text (two spaces), leaving every token byte-identical. Used to pretty
// print stored or assembled JSON without parsing it into a tree. REQUIRES: `json` is valid JSON
// without empty objects or arrays (which FHIR JSON never has).
std::string PrettyPrintJson(std::string_view json);

// Appends `text` as a quoted, escaped JSON string.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace ck::fhir
