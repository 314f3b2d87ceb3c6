#pragma once
// Invariants (ElementDefinition.constraint) checked on a bound resource: every constraint in the
// R4 resources' and data types' definitions (`dom-3`, `obs-6`, `ext-1`,
// `qty-3`...) is compiled once with the FHIRPath engine and evaluated on each element it
// constrains: a node of the type it is defined on (or a type derived from it), or of the
// backbone element it is defined on (also where a content reference reuses that element), or of
// the element it is defined on (Organization.telecom, a primitive like ElementDefinition.max).
// `ele-1` (an element has a value or children) is checked directly, it applies to every node;
// txt-1 and txt-2 by the JSON reader's narrative rules.
// Constraints whose R4 expression is wrong are listed with the reason in
// validation/invariant_exclusions.txt and not evaluated.
// A constraint of severity `error` that is not met is an error, one of severity `warning` a
// warning (evaluated only when warnings are collected).
// Thread safety: immutable after construction; Check may run concurrently.

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "fhir/definitions.h"
#include "fhir/resource.h"
#include "fhirpath/expression.h"
#include "validation/issue_collector.h"

namespace ck::validation {

class InvariantCheck {
 public:
  // Compiles the R4 constraints (on first use, about a tenth of a second).
  static const InvariantCheck& R4();

  // Adds the violations in `resource` to `issues` (type invariant, message "constraint key is
  // not met: human text", located by a 0-based FHIRPath).
  void Check(const fhir::Resource& resource, IssueCollector& issues) const;

  // How many constraints are evaluated, and the keys of those excluded, with the reason.
  std::size_t size() const { return compiled_; }
  const std::unordered_map<std::string, std::string>& exclusions() const { return exclusions_; }
  // Constraints that could not be put to use, with the reason: the engine could not compile them
  // (type-checked in their context), or their path names no type or backbone element. A test
  // keeps this empty.
  const std::vector<std::string>& failed_to_compile() const { return failed_to_compile_; }

 private:
  struct Compiled {
    const fhir::ConstraintDefinition* definition;
    IssueSeverity severity;
    fhirpath::Expression expression;
  };
  class Walker;

  explicit InvariantCheck(const fhir::Definitions& definitions);
  // Whether `type` or a base of it has an invariant with this key.
  bool HasKey(const fhir::TypeDefinition* type, std::string_view key) const;

  const fhir::Definitions& definitions_;
  const fhir::ElementDefinition* const narrative_div_;  // where txt-2 is checked natively
  const fhir::ConstraintDefinition* txt2_ = nullptr;
  std::unordered_map<const fhir::TypeDefinition*, std::vector<Compiled>> by_type_;
  std::unordered_map<const fhir::Structure*, std::vector<Compiled>> by_backbone_;
  std::unordered_map<const fhir::ElementDefinition*, std::vector<Compiled>> by_element_;
  std::unordered_map<std::string, std::string> exclusions_;
  std::vector<std::string> failed_to_compile_;
  std::size_t compiled_ = 0;
};

}  // namespace ck::validation
