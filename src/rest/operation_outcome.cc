#include "rest/operation_outcome.h"

#include "fhir/json_writer.h"
#include "util/error_table.h"
#include "util/log.h"
#include "util/text.h"

namespace ck::rest {
namespace {

void AppendIssue(std::string& out, std::string_view severity, IssueType type, std::string_view message,
                 std::string_view expression) {
  out += R"({"severity":)";
  fhir::AppendJsonString(out, severity);
  out += R"(,"code":)";
  fhir::AppendJsonString(out, IssueTypeCode(type));
  // Messages may quote the request (a type or id from the URL): the body is declared UTF-8.
  out += R"(,"diagnostics":)";
  fhir::AppendJsonString(out, ToValidUtf8(message));
  if (!expression.empty()) {
    out += R"(,"expression":[)";
    fhir::AppendJsonString(out, ToValidUtf8(expression));
    out += ']';
  }
  out += '}';
}

}  // namespace

std::string OperationOutcomeJson(const Status& status, std::string_view severity) {
  std::string out = R"({"resourceType":"OperationOutcome","issue":[)";
  if (status.issues().empty()) {
    AppendIssue(out, severity, status.DefaultIssueType(), status.message(), "");
  } else {
    bool first = true;
    for (const Issue& issue : status.issues()) {
      if (!first) out += ',';
      first = false;
      AppendIssue(out, severity, issue.type, issue.message, issue.expression);
    }
  }
  out += "]}";
  return out;
}

std::string InformationOutcomeJson(std::string_view message) {
  std::string out = R"({"resourceType":"OperationOutcome","issue":[)";
  AppendIssue(out, "information", IssueType::kInformational, message, "");
  out += "]}";
  return out;
}

HttpResponse ErrorResponse(const Status& status) {
  const ErrorTableRow& row = ErrorTableFor(status.code());
  if (row.http_status >= 500) {
    CK_LOG_ERROR("{} ({})", status.message(), status.detail());
  } else if (!status.detail().empty()) {
    CK_LOG_DEBUG("{} ({})", status.message(), status.detail());
  }
  HttpResponse response;
  response.status = row.http_status;
  response.body = OperationOutcomeJson(status, "error");
  response.With("Content-Type", kFhirJson);
  // Busy, overloaded or a failing disk: tell clients and load balancers when to try again.
  if (row.http_status == 503) response.With("Retry-After", "2");
  return response;
}

}  // namespace ck::rest
