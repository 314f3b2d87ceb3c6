#pragma once
// The one place a Status becomes an HTTP answer: the status code from util/error_table.h and an
// OperationOutcome body with one issue per Status issue (severity, code, diagnostics, FHIRPath
// expression).
// Only the client-safe message goes out; the internal detail is logged here, never sent.
// Thread safety: pure functions.

#include <span>
#include <string>

#include "fhir/operation_outcome.h"
#include "rest/http_message.h"
#include "util/status.h"

namespace ck::rest {

inline constexpr char kFhirJson[] = "application/fhir+json; charset=utf-8";

// An error response for a non-OK status.
HttpResponse ErrorResponse(const Status& status);

// An OperationOutcome with one issue per issue, each with its own severity.
using fhir::OperationOutcomeJson;
// The issues of a failed status, or one error issue with its message when it carries none.
std::string OperationOutcomeJson(const Status& status);
// An information issue saying what was done, followed by `issues` (the warnings of a write).
std::string InformationOutcomeJson(std::string_view message, std::span<const Issue> issues = {});

}  // namespace ck::rest
