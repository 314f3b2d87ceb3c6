#include "rest/operation_outcome.h"

#include "util/error_table.h"
#include "util/log.h"

namespace ck::rest {

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
