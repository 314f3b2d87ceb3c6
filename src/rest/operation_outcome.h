#pragma once
// The one place a Status becomes an HTTP answer: the status code from util/error_table.h and an
// OperationOutcome body with one issue per Status issue (code, diagnostics, FHIRPath expression).
// Only the client-safe message goes out; the internal detail is logged here, never sent.
// Thread safety: pure functions.

#include <string>

#include "rest/http_message.h"
#include "util/status.h"

namespace ck::rest {

inline constexpr char kFhirJson[] = "application/fhir+json; charset=utf-8";

// An error response for a non-OK status.
HttpResponse ErrorResponse(const Status& status);

// An OperationOutcome with one issue of the given severity ("information", "error").
std::string OperationOutcomeJson(const Status& status, std::string_view severity);
std::string InformationOutcomeJson(std::string_view message);

}  // namespace ck::rest
