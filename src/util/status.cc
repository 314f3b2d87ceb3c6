#include "util/status.h"

#include <array>

#include "util/error_table.h"

namespace ck {
namespace {

constexpr std::array kRows = {
    ErrorTableRow{StatusCode::kOk, "ok", 200, IssueType::kInformational, "AA"},
    ErrorTableRow{StatusCode::kInvalid, "invalid", 400, IssueType::kInvalid, "AE"},
    ErrorTableRow{StatusCode::kNotFound, "not-found", 404, IssueType::kNotFound, "AE"},
    ErrorTableRow{StatusCode::kMethodNotAllowed, "method-not-allowed", 405, IssueType::kNotSupported, "AE"},
    ErrorTableRow{StatusCode::kNotAcceptable, "not-acceptable", 406, IssueType::kNotSupported, "AE"},
    ErrorTableRow{StatusCode::kGone, "gone", 410, IssueType::kDeleted, "AE"},
    ErrorTableRow{StatusCode::kConflict, "conflict", 409, IssueType::kConflict, "AE"},
    ErrorTableRow{StatusCode::kPreconditionFailed, "precondition-failed", 412, IssueType::kConflict, "AE"},
    ErrorTableRow{StatusCode::kTooLarge, "too-large", 413, IssueType::kTooLong, "AE"},
    ErrorTableRow{StatusCode::kUnsupportedMedia, "unsupported-media", 415, IssueType::kNotSupported, "AE"},
    ErrorTableRow{StatusCode::kUnprocessable, "unprocessable", 422, IssueType::kProcessing, "AE"},
    ErrorTableRow{StatusCode::kUnauthenticated, "unauthenticated", 401, IssueType::kLogin, "AR"},
    ErrorTableRow{StatusCode::kForbidden, "forbidden", 403, IssueType::kSecurity, "AR"},
    ErrorTableRow{StatusCode::kTooCostly, "too-costly", 400, IssueType::kTooCostly, "AE"},
    ErrorTableRow{StatusCode::kUnavailable, "unavailable", 503, IssueType::kTransient, "AR"},
    ErrorTableRow{StatusCode::kInternal, "internal", 500, IssueType::kException, "AR"},
    ErrorTableRow{StatusCode::kNotImplemented, "not-implemented", 501, IssueType::kNotSupported, "AR"},
    ErrorTableRow{StatusCode::kInsufficientStorage, "insufficient-storage", 507, IssueType::kTransient, "AR"},
    ErrorTableRow{StatusCode::kCorrupt, "corrupt", 500, IssueType::kException, "AR"},
    ErrorTableRow{StatusCode::kOutcomeUnknown, "outcome-unknown", 500, IssueType::kTransient, "AR"},
    ErrorTableRow{StatusCode::kRequestTimeout, "request-timeout", 408, IssueType::kTimeout, "AE"},
    ErrorTableRow{StatusCode::kUriTooLong, "uri-too-long", 414, IssueType::kTooLong, "AE"},
    ErrorTableRow{StatusCode::kHeadersTooLarge, "headers-too-large", 431, IssueType::kTooLong, "AE"},
    ErrorTableRow{StatusCode::kExpectationFailed, "expectation-failed", 417, IssueType::kNotSupported, "AE"},
};

constexpr bool RowsFollowEnumOrder() {
  for (std::size_t i = 0; i < kRows.size(); ++i) {
    if (static_cast<std::size_t>(kRows[i].code) != i) return false;
  }
  return true;
}
static_assert(RowsFollowEnumOrder(), "error table rows must follow StatusCode order");

}  // namespace

const ErrorTableRow& ErrorTableFor(StatusCode code) { return kRows.at(static_cast<std::size_t>(code)); }

IssueType Status::DefaultIssueType() const { return ErrorTableFor(code_).issue_type; }

std::string Status::ToString() const {
  std::string out(ErrorTableFor(code_).name);
  if (!message_.empty()) out += ": " + message_;
  if (!detail_.empty()) out += " (" + detail_ + ")";
  for (const Issue& issue : issues_) {
    out += "\n  [" + std::string(IssueSeverityCode(issue.severity)) + " " + std::string(IssueTypeCode(issue.type)) + "] " + issue.expression + ": " + issue.message;
  }
  return out;
}

std::string_view IssueTypeCode(IssueType type) {
  switch (type) {
    case IssueType::kInvalid: return "invalid";
    case IssueType::kStructure: return "structure";
    case IssueType::kRequired: return "required";
    case IssueType::kValue: return "value";
    case IssueType::kInvariant: return "invariant";
    case IssueType::kNotFound: return "not-found";
    case IssueType::kDeleted: return "deleted";
    case IssueType::kConflict: return "conflict";
    case IssueType::kTooLong: return "too-long";
    case IssueType::kTooCostly: return "too-costly";
    case IssueType::kNotSupported: return "not-supported";
    case IssueType::kProcessing: return "processing";
    case IssueType::kException: return "exception";
    case IssueType::kSecurity: return "security";
    case IssueType::kLogin: return "login";
    case IssueType::kTransient: return "transient";
    case IssueType::kDuplicate: return "duplicate";
    case IssueType::kBusinessRule: return "business-rule";
    case IssueType::kInformational: return "informational";
    case IssueType::kTimeout: return "timeout";
    case IssueType::kCodeInvalid: return "code-invalid";
    case IssueType::kExtension: return "extension";
  }
  return "exception";
}

std::string_view IssueSeverityCode(IssueSeverity severity) {
  switch (severity) {
    case IssueSeverity::kFatal: return "fatal";
    case IssueSeverity::kError: return "error";
    case IssueSeverity::kWarning: return "warning";
    case IssueSeverity::kInformation: return "information";
  }
  return "error";
}

}  // namespace ck
