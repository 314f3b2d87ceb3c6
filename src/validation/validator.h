#pragma once
// The validation of a bound resource beyond its JSON structure, in one call: its terminology
// bindings (binding_check.h), its invariants (invariant_check.h) and its profiles
// (profile_check.h: claimed, named, and the definitions of its extensions). Front doors reach it
// through records::RecordService (on every write, and for $validate).
// Thread safety: immutable; Validate may run concurrently.

#include <string>
#include <vector>

#include "fhir/resource.h"
#include "terminology/value_sets.h"
#include "validation/invariant_check.h"
#include "validation/issue_collector.h"
#include "validation/profile_check.h"

namespace ck::validation {

class Validator {
 public:
  // REQUIRES: the arguments outlive the validator. `strict_profiles`: a claimed profile this
  // server does not hold is an error (default: a warning).
  Validator(const fhir::Definitions& definitions, const terminology::ValueSetLookup& value_sets, const InvariantCheck& invariants,
            const ProfileRegistry& profiles, bool strict_profiles)
      : value_sets_(value_sets), invariants_(invariants), profiles_(definitions, profiles, value_sets), strict_profiles_(strict_profiles) {}

  // Every problem found, errors first, at most options.max_issues. `named_profiles`: profiles
  // to check against besides those the resource claims (an unknown one is an error).
  std::vector<Issue> Validate(const fhir::Resource& resource, CheckOptions options,
                              const std::vector<std::string>& named_profiles = {}) const;

 private:
  const terminology::ValueSetLookup& value_sets_;
  const InvariantCheck& invariants_;
  const ProfileCheck profiles_;
  const bool strict_profiles_;
};

// Whether any issue is an error (or fatal): such a resource is not stored.
bool HasErrors(const std::vector<Issue>& issues);

}  // namespace ck::validation
