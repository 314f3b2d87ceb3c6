#pragma once
// The issues one check finds in a resource written as JSON (which must read), for the
// specifications of the validation checks.

#include <functional>
#include <string_view>
#include <vector>

#include "support/bound_resource.h"
#include "validation/issue_collector.h"

namespace ck::validation {

inline std::vector<Issue> CollectIssues(std::string_view json, CheckOptions options,
                                        const std::function<void(const fhir::Resource&, IssueCollector&)>& check) {
  auto resource = testing::BoundResource(json);
  if (!resource) return {};
  IssueCollector issues(options);
  check(*resource, issues);
  return issues.Take();
}

}  // namespace ck::validation
