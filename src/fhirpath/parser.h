#pragma once
// Parses FHIRPath (N1 grammar as used by FHIR R4) into an AST: literals (including dates,
// times and quantities with UCUM or calendar units), invocations, indexers, and every operator
// with FHIRPath precedence (`implies` lowest and right-associative). Comments `//` and `/* */`.
// Errors: kInvalid with the offset and what was expected ("at 7: expected an expression").
// Thread safety: pure function.

#include <memory>
#include <string_view>

#include "fhirpath/ast.h"
#include "util/status.h"

namespace ck::fhirpath {

Result<std::unique_ptr<Expr>> Parse(std::string_view text);

}  // namespace ck::fhirpath
