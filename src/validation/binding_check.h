#pragma once
// Terminology bindings checked on a bound resource: every code, Coding and CodeableConcept
// whose element is bound to a value set that can be expanded from the loaded code systems
// (terminology/value_sets.h) should hold a member: an error for a *required* binding, a warning
// for an *extensible* or *preferred* one. A binding to a value set that needs a code system not
// loaded (SNOMED CT, LOINC...) is skipped, nothing is guessed, and an information issue says so.
// The same check serves profiles' bindings (validation/profile_check.h).
// Thread safety: pure functions over immutable definitions.

#include <vector>

#include "fhir/element_path.h"
#include "fhir/resource.h"
#include "terminology/value_sets.h"
#include "validation/issue_collector.h"

namespace ck::validation {

// Adds to `issues` the problems (type code-invalid, located by a 0-based FHIRPath) of the
// bindings of `resource`'s elements.
void CheckBindings(const fhir::Resource& resource, const terminology::ValueSetLookup& value_sets, IssueCollector& issues);

// Checks one value (`type` code, Coding, CodeableConcept or Quantity; others are not checked) against
// a binding of `strength` to `value_set_url`; `bound_at` names the binding in messages
// ("Patient.gender").
void CheckBoundValue(const fhir::Node& value, std::string_view type, fhir::BindingStrength strength,
                     std::string_view value_set_url, std::string_view bound_at, const terminology::ValueSetLookup& value_sets,
                     const fhir::ElementPath& path, IssueCollector& issues);

}  // namespace ck::validation
