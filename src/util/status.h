#pragma once
// Status and Result<T>: the one error type of Chartkeeper.
//
// A Status is a cheap value: a code from a small set, a client-safe message, an internal detail
// that is only ever logged (never sent to a client: it may name files or PHI), and optional FHIR
// issues (issue code + FHIRPath location) so validation can report every problem at once.
// Anything a client, a file or a peer can cause is returned as a Status, never thrown.
// How each code maps to HTTP, FHIR and HL7 v2 lives in one table: util/error_table.h.
// Thread safety: values; safe to copy between threads.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

namespace ck {

enum class StatusCode {
  kOk,
  kInvalid,              // malformed request or input (HTTP 400)
  kNotFound,             // no such resource or route (404)
  kMethodNotAllowed,     // the route exists, the method does not (405)
  kNotAcceptable,        // cannot produce what the client accepts (406)
  kGone,                 // deleted (410)
  kConflict,             // version conflict (409)
  kPreconditionFailed,   // If-Match mismatch (412)
  kTooLarge,             // body over the limit (413)
  kUnsupportedMedia,     // body in a format we cannot read (415)
  kUnprocessable,        // well-formed but fails FHIR rules (422)
  kUnauthenticated,      // (401)
  kForbidden,            // (403)
  kTooCostly,            // (400 too-costly)
  kUnavailable,          // overloaded or shutting down (503)
  kInternal,             // a bug or an environment failure (500)
  kNotImplemented,       // a FHIR interaction this server does not offer yet (501)
  kInsufficientStorage,  // the disk is full (507)
  kCorrupt,              // stored data failed a check: a corrupt page or body (500)
  kOutcomeUnknown,       // a commit failed so that the write may or may not be durable (500)
  kRequestTimeout,       // the client was too slow to send its request (408)
  kUriTooLong,           // the request target is over the limit (414)
  kHeadersTooLarge,      // a header line or all headers are over the limit (431)
  kExpectationFailed,    // an Expect header this server cannot meet (417)
};

// FHIR IssueType codes used in OperationOutcome.issue.code.
enum class IssueType {
  kInvalid, kStructure, kRequired, kValue, kInvariant, kNotFound, kDeleted, kConflict,
  kTooLong, kTooCostly, kNotSupported, kProcessing, kException, kSecurity, kLogin, kTransient,
  kDuplicate, kBusinessRule, kInformational, kTimeout, kCodeInvalid, kExtension,
};

// FHIR IssueSeverity: an error refuses what it is about; warnings and information never do.
enum class IssueSeverity { kFatal, kError, kWarning, kInformation };

// One problem found in a resource, located by a FHIRPath expression such as
// "Patient.name[0].given[1]".
struct Issue {
  IssueType type = IssueType::kInvalid;
  std::string message;
  std::string expression;
  IssueSeverity severity = IssueSeverity::kError;
  // The rule broken, for reports that count by rule: "constraint obs-6", "binding <value set>",
  // "profile <url>", "extension <url>"; empty when the issue type says it all.
  std::string rule;

  bool IsError() const { return severity == IssueSeverity::kError || severity == IssueSeverity::kFatal; }
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status Invalid(std::string message) { return {StatusCode::kInvalid, std::move(message)}; }
  static Status NotFound(std::string message) { return {StatusCode::kNotFound, std::move(message)}; }
  static Status Gone(std::string message) { return {StatusCode::kGone, std::move(message)}; }
  static Status Conflict(std::string message) { return {StatusCode::kConflict, std::move(message)}; }
  static Status PreconditionFailed(std::string message) {
    return {StatusCode::kPreconditionFailed, std::move(message)};
  }
  static Status Unprocessable(std::string message) {
    return {StatusCode::kUnprocessable, std::move(message)};
  }
  static Status Internal(std::string message) { return {StatusCode::kInternal, std::move(message)}; }
  static Status Unavailable(std::string message) {
    return {StatusCode::kUnavailable, std::move(message)};
  }

  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  // Lets CK_RETURN_IF_ERROR return from functions that return a plain Status.
  Status(tl::unexpected<Status> failed) : Status(std::move(failed.value())) {}  // NOLINT

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsGone() const { return code_ == StatusCode::kGone; }

  // Client-safe summary.
  const std::string& message() const { return message_; }
  // Internal detail for the log only.
  const std::string& detail() const { return detail_; }
  const std::vector<Issue>& issues() const { return issues_; }

  Status&& WithDetail(std::string detail) && {
    detail_ = std::move(detail);
    return std::move(*this);
  }
  // Prefixes the message and each issue's with "<context>: " (which entry of a Bundle, say).
  Status&& WithContext(std::string_view context) && {
    message_ = std::string(context) + ": " + message_;
    for (Issue& issue : issues_) issue.message = std::string(context) + ": " + issue.message;
    return std::move(*this);
  }
  Status&& WithIssues(std::vector<Issue> issues) && {
    issues_ = std::move(issues);
    return std::move(*this);
  }
  // The issue type this status reports when it carries no explicit issues.
  IssueType DefaultIssueType() const;
  // "invalid: message (detail)": for logs and test failure messages.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string detail_;
  std::vector<Issue> issues_;
};

template <typename T>
using Result = tl::expected<T, Status>;

// Wraps a failed Status for returning it from a function that returns Result<T>.
inline tl::unexpected<Status> Err(Status status) { return tl::unexpected<Status>(std::move(status)); }

std::string_view IssueTypeCode(IssueType type);
std::string_view IssueSeverityCode(IssueSeverity severity);

}  // namespace ck

#define CK_CONCAT_INNER(a, b) a##b
#define CK_CONCAT(a, b) CK_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define CK_RETURN_IF_ERROR(expr)              \
  do {                                        \
    ::ck::Status ck_status_ = (expr);         \
    if (!ck_status_.ok()) return ::ck::Err(std::move(ck_status_)); \
  } while (0)

// Evaluates `expr` (a Result<T>); on error returns its Status, else assigns the value to `lhs`.
#define CK_ASSIGN_OR_RETURN(lhs, expr) CK_ASSIGN_OR_RETURN_IMPL(CK_CONCAT(ck_result_, __LINE__), lhs, expr)
#define CK_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp) return ::ck::Err(std::move(tmp).error()); \
  lhs = std::move(*tmp)
