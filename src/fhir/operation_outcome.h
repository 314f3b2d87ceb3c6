#pragma once
// Issues written as an OperationOutcome resource (JSON): severity, code, diagnostics and the
// FHIRPath expression of each. The REST API answers with it, and a version stored under a
// lenient validation policy keeps its problems in this form.
// Thread safety: a pure function.

#include <span>
#include <string>

#include "util/status.h"

namespace ck::fhir {

// One issue per Issue, each with its own severity; text that is not UTF-8 is mended.
std::string OperationOutcomeJson(std::span<const Issue> issues);

}  // namespace ck::fhir
