#pragma once
// The bind step of FHIRPath compilation: checks an expression against the R4 type model for a
// given context type, the way a compiler checks names against its catalog. It infers which FHIR
// types each path step can have and refuses what cannot work on any of them:
//  - an element no possible type has (`name.given1`, `Observation.valueQuantity` — choice
//    elements are reached by their base name, `value`);
//  - in strict mode only, a leading resource type that is not the context's (`Encounter.name` on
//    a Patient); in standard mode such a path is just empty, as shared SearchParameters
//    (`AllergyIntolerance.code | Condition.code | ...`) rely on;
//  - an unknown type in is/as/ofType (`as(string1)`);
//  - skip/take/first/last/tail/indexing on the unordered result of children()/descendants().
// Where it cannot know the type (literals, most functions, any resource in Bundle.entry.resource)
// it stops checking rather than guessing, so it never refuses a valid expression.
// It also prunes: a path that is empty for every resource of the context type (a branch of a
// shared SearchParameter for another resource type) is replaced by `{}`, so evaluation skips it.
// Errors: kInvalid "FHIRPath type error at N: ...". Thread safety: pure function.

#include "fhir/definitions.h"
#include "fhirpath/ast.h"
#include "util/status.h"

namespace ck::fhirpath {

enum class TypeCheck { kStandard, kStrict };

Status CheckTypes(Expr& expr, const fhir::Definitions& definitions, const fhir::TypeDefinition& context,
                  TypeCheck mode = TypeCheck::kStandard);

}  // namespace ck::fhirpath
