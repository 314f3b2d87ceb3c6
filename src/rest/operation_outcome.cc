#include "rest/operation_outcome.h"

#include "fhir/json_writer.h"
#include "util/error_table.h"
#include "util/log.h"
#include "util/text.h"

namespace ck::rest {
namespace {

void AppendIssue(std::string& out, const Issue& issue) {
  out += R"({"severity":)";
  fhir::AppendJsonString(out, IssueSeverityCode(issue.severity));
  out += R"(,"code":)";
  fhir::AppendJsonString(out, IssueTypeCode(issue.type));
  // Messages may quote the request (a type or id from the URL): the body is declared UTF-8.
  out += R"(,"diagnostics":)";
  fhir::AppendJsonString(out, ToValidUtf8(issue.message));
  if (!issue.expression.empty()) {
    out += R"(,"expression":[)";
    fhir::AppendJsonString(out, ToValidUtf8(issue.expression));
    out += ']';
  }
  out += '}';
}

}  // namespace

std::string OperationOutcomeJson(std::span<const Issue> issues) {
  std::string out = R"({"resourceType":"OperationOutcome","issue":[)";
  for (std::size_t i = 0; i < issues.size(); ++i) {
    if (i > 0) out += ',';
    AppendIssue(out, issues[i]);
  }
  out += "]}";
  return out;
}

std::string OperationOutcomeJson(const Status& status) {
  if (!status.issues().empty()) return OperationOutcomeJson(status.issues());
  const Issue summary{status.DefaultIssueType(), status.message(), "", IssueSeverity::kError};
  return OperationOutcomeJson({&summary, 1});
}

std::string InformationOutcomeJson(std::string_view message, std::span<const Issue> issues) {
  std::vector<Issue> all{{IssueType::kInformational, std::string(message), "", IssueSeverity::kInformation}};
  all.insert(all.end(), issues.begin(), issues.end());
  return OperationOutcomeJson(all);
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
  response.body = OperationOutcomeJson(status);
  response.With("Content-Type", kFhirJson);
  // Busy, overloaded or a failing disk: tell clients and load balancers when to try again.
  if (row.http_status == 503) response.With("Retry-After", "2");
  return response;
}

}  // namespace ck::rest
