#pragma once
// Terminology bindings checked on a bound resource: every code, Coding and CodeableConcept
// whose element has a *required* binding to a value set that can be expanded from the loaded
// code systems (terminology/value_sets.h) must hold a member. A binding to a value set that needs
// a code system not loaded (SNOMED CT, LOINC...) is skipped: nothing is guessed.
// Not yet: extensible and preferred bindings (warnings), profiles' bindings (issue 7).
// Thread safety: pure functions over immutable definitions.

#include <vector>

#include "fhir/resource.h"
#include "terminology/value_sets.h"
#include "util/status.h"

namespace ck::validation {

// The issues (type code-invalid, located by FHIRPath, 0-based) of `resource`'s required
// bindings, at most `max_issues`; empty if every bound code is a member.
std::vector<Issue> CheckBindings(const fhir::Resource& resource, const terminology::ValueSets& value_sets,
                                 std::size_t max_issues = 100);

}  // namespace ck::validation
