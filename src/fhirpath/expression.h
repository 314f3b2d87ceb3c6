#pragma once
// A compiled FHIRPath expression: parse once, evaluate many times over typed resource trees.
//
//   auto expr = Expression::Compile("Patient.name.given");
//   auto given = expr->Evaluate(resource, Definitions::R4());   // a Collection
//
// Supports the FHIRPath N1 operators and functions used by FHIR R4 (see src/fhirpath/README.md
// for the list and what is not supported yet). Evaluation errors (single() on several items,
// arithmetic on mismatched types, an unsupported function) are kInvalid Statuses naming the
// problem; nothing throws.
// Thread safety: a compiled Expression is immutable; Evaluate may run concurrently.

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "fhir/definitions.h"
#include "fhir/resource.h"
#include "fhirpath/ast.h"
#include "fhirpath/type_checker.h"
#include "util/status.h"

namespace ck::fhirpath {

// Finds the resource a reference (as written: "Patient/1", an absolute URL, "urn:uuid:...") points
// to, for resolve() beyond the resource being evaluated and its Bundle: the server supplies one
// over its store. Returns nullptr when it does not know the target. REQUIRES: the resource it
// returns outlives the evaluation's results.
using ReferenceResolver = std::function<const fhir::Resource*(std::string_view reference)>;

class Expression {
 public:
  // Errors: kInvalid with the position of a syntax error.
  static Result<Expression> Compile(std::string_view text);
  // Compiles and checks the expression against the type model for resources of `context`
  // (fhirpath/type_checker.h). Errors: kInvalid for syntax and type errors.
  static Result<Expression> Compile(std::string_view text, const fhir::Definitions& definitions,
                                    const fhir::TypeDefinition& context, TypeCheck mode = TypeCheck::kStandard);

  // Evaluates with the resource as focus, %resource and %context; `variables` are extra
  // environment variables (%name). resolve() finds contained resources, the entries of a Bundle
  // being evaluated, then asks `resolver` if given; a reference none of them knows gives a
  // stand-in of the referenced type (enough for `resolve() is Patient`, which search needs).
  // REQUIRES: resource is bound (fhir/json_reader.h).
  Result<Collection> Evaluate(const fhir::Resource& resource, const fhir::Definitions& definitions,
                              const std::map<std::string, Collection>& variables = {},
                              const ReferenceResolver& resolver = {}) const;

  // Evaluates with `focus` as the focus, and `resource` (the resource that holds it, possibly one
  // nested in a Bundle or contained) as %resource: how an invariant is evaluated on each element
  // it constrains (%context is the focus). `root_resource` is %rootResource: the resource that contains `resource` (for
  // a contained resource), or `resource` itself when null. REQUIRES: the nodes bound, `focus`
  // inside `resource`.
  Result<Collection> EvaluateAt(const fhir::Node& resource, const fhir::Node& focus, const fhir::Definitions& definitions,
                                const fhir::Node* root_resource = nullptr) const;

  const Expr& root() const { return *root_; }

 private:
  explicit Expression(std::shared_ptr<const Expr> root) : root_(std::move(root)) {}
  std::shared_ptr<const Expr> root_;
};

}  // namespace ck::fhirpath
