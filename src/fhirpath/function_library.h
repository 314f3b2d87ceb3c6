#pragma once
// Private to fhirpath/: what the files of the function library share (functions.cc for N1,
// functions_v2.cc for the FHIRPath 2.0 additions).

#include <re2/re2.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "fhirpath/evaluator.h"

namespace ck::fhirpath {

Status EvalError(const std::string& what);
inline Collection Single(Value v) { return Collection{std::move(v)}; }
inline Collection Boolean(bool b) { return Single(Value::Boolean(b)); }

// The single System value of a collection for functions on one item: nullopt when empty.
// Errors: several items; a complex element.
Result<std::optional<Value>> SingleValue(const Collection& c, std::string_view function);

// One function call being evaluated: its input, arguments and helpers to evaluate them.
struct FunctionCall {
  Evaluator& evaluator;
  const Expr& expr;
  const Collection& input;
  const Collection& outer;
  const Scope& scope;

  std::size_t arity() const { return expr.children.size() - (expr.has_target ? 1 : 0); }
  // Every argument is fetched through this check, so a missing one is an error, never a read
  // past the end.
  Status Has(std::size_t i) const {
    if (i < arity()) return Status::Ok();
    return EvalError(expr.name + "() needs at least " + std::to_string(i + 1) + " argument" + (i ? "s" : ""));
  }
  const Expr& argument(std::size_t i) const { return *expr.children[i + (expr.has_target ? 1 : 0)]; }
  // A plain argument, evaluated once in the context the function was called from.
  Result<Collection> Arg(std::size_t i) const {
    CK_RETURN_IF_ERROR(Has(i));
    return evaluator.Eval(argument(i), outer, scope);
  }
  // An argument evaluated with the function's input as its focus and $this (iif).
  Result<Collection> ArgOnInput(std::size_t i) const {
    CK_RETURN_IF_ERROR(Has(i));
    return evaluator.Eval(argument(i), input, Scope{nullptr, scope.index, scope.total});
  }
  // A lambda argument for one item of the input.
  Result<Collection> Lambda(std::size_t i, const Value& item, std::int64_t index, const Collection* total = nullptr) const {
    CK_RETURN_IF_ERROR(Has(i));
    Scope inner{&item, index, total};
    return evaluator.Eval(argument(i), Single(item), inner);
  }
  Result<std::optional<Value>> ArgValue(std::size_t i) const {
    CK_ASSIGN_OR_RETURN(Collection c, Arg(i));
    return SingleValue(c, expr.name);
  }
  Result<std::optional<Value>> InputValue() const { return SingleValue(input, expr.name); }
  Status Arity(std::size_t min, std::size_t max) const {
    if (arity() < min || arity() > max) return EvalError(expr.name + "() takes " + std::to_string(min) + (max != min ? " to " + std::to_string(max) : "") + " arguments");
    return Status::Ok();
  }
};


// A string or integer argument; nullopt when empty. Errors: another type.
Result<std::optional<std::string>> StringArg(const FunctionCall& f, std::size_t i);
Result<std::optional<std::int64_t>> IntegerArg(const FunctionCall& f, std::size_t i);

// A pattern from an expression, compiled by RE2: linear-time matching whatever the pattern (no
// catastrophic backtracking on hostile input), '.' matching newlines (FHIRPath's single-line
// mode). Errors: kInvalid for a pattern RE2 cannot compile.
Result<std::shared_ptr<const re2::RE2>> CompilePattern(const std::string& pattern);

using Function = std::function<Result<Collection>(const FunctionCall&)>;
using FunctionTable = std::unordered_map<std::string, Function>;

// Adds the FHIRPath 2.0 functions (functions_v2.cc) to the table.
void AddVersion2Functions(FunctionTable& table);

}  // namespace ck::fhirpath
