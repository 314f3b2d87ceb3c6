#pragma once
// Profiles checked on a bound resource: the profiles it claims in meta.profile (and those the
// resources nested in it claim), any the caller names ($validate's `profile`), and the
// definition of every extension it carries, wherever it is.
//
// Against a profile: each element rule's cardinality, allowed types (for choice elements), fixed
// and pattern values, binding (where it is not the R4 one, checked already), the profiles its
// type names (SimpleQuantity, ...) and its Reference's target profiles (by the type the
// reference names), the invariants the profile adds, and slicing: each value is assigned to the
// first slice whose discriminators it meets (value, pattern, type, profile, exists; a path in
// FHIRPath from the value), then each slice's cardinality and rules are checked, values that
// fit no slice are refused under closed slicing, and ordered slicing keeps the slices' order.
// An extension is checked against its definition (where it may be used, its value and its
// parts); an unknown extension is a warning (kept: a records server stores what it cannot
// interpret, readers must treat an unknown modifier extension as such, and extension packs add
// extensions in the R4 namespace after R4). A claimed profile the server does not hold is a warning, or an error
// when `unknown_profile_is_error` (the strict policy, and for profiles a caller names).
// Thread safety: immutable; Check may run concurrently.

#include <string>
#include <vector>

#include "fhir/definitions.h"
#include "fhir/resource.h"
#include "terminology/value_sets.h"
#include "validation/issue_collector.h"
#include "validation/profile_registry.h"

namespace ck::validation {

class ProfileCheck {
 public:
  // REQUIRES: the arguments outlive the check.
  ProfileCheck(const fhir::Definitions& definitions, const ProfileRegistry& profiles, const terminology::ValueSetLookup& value_sets)
      : definitions_(definitions), profiles_(profiles), value_sets_(value_sets) {}

  // Adds to `issues` what breaks the claimed, named and extension profiles of `resource`.
  void Check(const fhir::Resource& resource, const std::vector<std::string>& named_profiles, bool unknown_profile_is_error,
             IssueCollector& issues) const;

 private:
  class Checker;
  const fhir::Definitions& definitions_;
  const ProfileRegistry& profiles_;
  const terminology::ValueSetLookup& value_sets_;
};

}  // namespace ck::validation
