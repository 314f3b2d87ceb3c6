#pragma once
// The validation of a bound resource beyond its JSON structure, in one call: its terminology
// bindings (binding_check.h) and its invariants (invariant_check.h). Front doors reach it through
// records::RecordService (on every write, and for $validate).
// Thread safety: immutable; Validate may run concurrently.

#include <vector>

#include "fhir/resource.h"
#include "terminology/value_sets.h"
#include "validation/invariant_check.h"
#include "validation/issue_collector.h"

namespace ck::validation {

class Validator {
 public:
  // REQUIRES: the arguments outlive the validator.
  Validator(const terminology::ValueSets& value_sets, const InvariantCheck& invariants)
      : value_sets_(value_sets), invariants_(invariants) {}

  // Every problem found, errors first in the order of the checks, at most options.max_issues.
  std::vector<Issue> Validate(const fhir::Resource& resource, CheckOptions options) const;

 private:
  const terminology::ValueSets& value_sets_;
  const InvariantCheck& invariants_;
};

// Whether any issue is an error (or fatal): such a resource is not stored.
bool HasErrors(const std::vector<Issue>& issues);

}  // namespace ck::validation
