#include "fhir/operation_outcome.h"

#include "fhir/json_writer.h"
#include "util/text.h"

namespace ck::fhir {
namespace {

void AppendIssue(std::string& out, const Issue& issue) {
  out += R"({"severity":)";
  AppendJsonString(out, IssueSeverityCode(issue.severity));
  out += R"(,"code":)";
  AppendJsonString(out, IssueTypeCode(issue.type));
  // Messages may quote the request (a type or id from the URL): the body is declared UTF-8.
  out += R"(,"diagnostics":)";
  AppendJsonString(out, ToValidUtf8(issue.message));
  if (!issue.expression.empty()) {
    out += R"(,"expression":[)";
    AppendJsonString(out, ToValidUtf8(issue.expression));
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

}  // namespace ck::fhir
