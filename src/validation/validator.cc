#include "validation/validator.h"

#include <algorithm>

#include "validation/binding_check.h"

namespace ck::validation {

std::vector<Issue> Validator::Validate(const fhir::Resource& resource, CheckOptions options,
                                      const std::vector<std::string>& named_profiles) const {
  IssueCollector issues(options);
  CheckBindings(resource, value_sets_, issues);
  invariants_.Check(resource, issues);
  profiles_.Check(resource, named_profiles, strict_profiles_, issues);
  std::vector<Issue> out = issues.Take();
  std::stable_partition(out.begin(), out.end(), [](const Issue& issue) { return issue.IsError(); });
  return out;
}

bool HasErrors(const std::vector<Issue>& issues) {
  return std::any_of(issues.begin(), issues.end(), [](const Issue& issue) { return issue.IsError(); });
}

}  // namespace ck::validation
