#pragma once
// Private to fhirpath/: the tree-walking evaluator shared by expression.cc (core and operators)
// and functions.cc (the function library).

#include <map>
#include <optional>
#include <string>

#include "fhir/definitions.h"
#include "fhirpath/ast.h"
#include "fhirpath/expression.h"
#include "util/status.h"

namespace ck::fhirpath {

// What `$this`, `$index` and `$total` mean inside a function argument.
struct Scope {
  const Value* this_value = nullptr;
  std::int64_t index = 0;
  const Collection* total = nullptr;
};

class Evaluator {
 public:
  // `root_resource`: %rootResource, the resource that contains `resource` (itself if none);
  // `context`: %context, the node evaluation starts at (`resource` if none).
  Evaluator(const fhir::Definitions& definitions, const Value& resource, const std::map<std::string, Collection>& variables,
            const ReferenceResolver& resolver, std::optional<Value> root_resource = std::nullopt,
            std::optional<Value> context = std::nullopt)
      : definitions_(definitions),
        resource_(resource),
        root_resource_(root_resource.value_or(resource)),
        context_(context.value_or(resource)),
        variables_(variables),
        resolver_(resolver) {}

  Result<Collection> Eval(const Expr& expr, const Collection& focus, const Scope& scope);

  // The children named `name` of each item (choice elements match their base name).
  Collection Member(const Collection& focus, const std::string& name) const;
  // All children of an item (children()).
  void Children(const Value& item, Collection& out) const;
  // How a FHIR primitive matches a type. is() follows FHIR's type hierarchy, as the R4
  // StructureDefinitions give it (a code is a string, a uuid a uri). as() and ofType() select a
  // primitive by its exact type, so that `ConceptMap.source as uri` leaves out a canonical
  // (which specializes uri; the `source` search parameter indexes those). The official suite
  // asks for both (testFHIRPathIsFunction2, testFHIRPathAsFunction11). Complex types and
  // resources match their base types either way (an Age is a Quantity).
  enum class TypeMatch { kSpecializations, kExactPrimitive };
  // Whether `item` is of the (possibly qualified) type `type_name`.
  bool IsType(const Value& item, const std::string& type_name, TypeMatch match) const;
  const fhir::Definitions& definitions() const { return definitions_; }
  // The target of a reference for resolve(), or nullopt (fhirpath/expression.h says where it looks).
  std::optional<Value> Resolve(std::string_view reference) const;
  // The single boolean a condition evaluates to: nullopt for empty. Errors for several items.
  static Result<std::optional<bool>> AsBoolean(const Collection& c);

 private:
  // `input`: what the function applies to; `outer`: the focus its plain arguments see.
  Result<Collection> Call(const Expr& expr, const Collection& input, const Collection& outer, const Scope& scope);
  Result<Collection> Binary(const Expr& expr, const Collection& focus, const Scope& scope);

  friend struct FunctionCall;
  const fhir::Definitions& definitions_;
  const Value& resource_;
  const Value root_resource_;
  const Value context_;
  const std::map<std::string, Collection>& variables_;
  const ReferenceResolver& resolver_;
};

// Arithmetic and string concatenation for + - * / div mod &. Errors for incompatible types.
Result<Collection> Arithmetic(const std::string& op, const Collection& left, const Collection& right);

}  // namespace ck::fhirpath
