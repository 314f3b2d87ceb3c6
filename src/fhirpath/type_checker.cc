#include "fhirpath/type_checker.h"

#include <string_view>
#include <vector>

namespace ck::fhirpath {
namespace {

// One type an expression may have: a FHIR type with the structure its children come from (a
// backbone element's own, or the type's).
struct StaticType {
  const fhir::TypeDefinition* type;
  const fhir::Structure* structure;
};

// What is known of an expression's result.
struct Inferred {
  bool known = false;  // false: stop checking below this point
  std::vector<StaticType> types;
  bool ordered = true;
};

Inferred Unknown(bool ordered = true) { return Inferred{false, {}, ordered}; }

constexpr std::string_view kSystemTypes[] = {"Boolean", "Integer", "Decimal", "String", "Date", "DateTime", "Time", "Quantity"};

bool IsOrderDependent(std::string_view f) {
  return f == "skip" || f == "take" || f == "first" || f == "last" || f == "tail" || f == "single";
}

bool PreservesType(std::string_view f) {
  static constexpr std::string_view kNames[] = {"where", "first", "last", "tail", "skip", "take", "single", "distinct",
                                                "trace", "intersect", "exclude", "sort"};
  for (std::string_view n : kNames) {
    if (n == f) return true;
  }
  return false;
}

// Whether argument `index` of function `f` is evaluated per input item ($this is the item).
bool IsIterating(std::string_view f, std::size_t index) {
  static constexpr std::string_view kFirstArgument[] = {"where", "select", "all", "exists", "repeat", "aggregate"};
  for (std::string_view n : kFirstArgument) {
    if (n == f) return index == 0;
  }
  return f == "sort" || (f == "trace" && index == 1);
}

class Checker {
 public:
  Checker(const fhir::Definitions& definitions, const fhir::TypeDefinition& context, TypeCheck mode)
      : definitions_(definitions), context_{&context, &context.structure}, mode_(mode) {}

  // Infers `expr` and, when it is known to be empty, replaces it by `{}`.
  Result<Inferred> Infer(Expr& expr, const Inferred& focus) {
    CK_ASSIGN_OR_RETURN(Inferred inferred, InferNode(expr, focus));
    bool prunable = expr.kind == Expr::Kind::kMember || (expr.kind == Expr::Kind::kFunction && PreservesType(expr.name));
    if (prunable && inferred.known && inferred.types.empty()) {
      expr.kind = Expr::Kind::kEmpty;
      expr.children.clear();
    }
    return inferred;
  }

 private:
  Result<Inferred> InferNode(Expr& expr, const Inferred& focus) {
    switch (expr.kind) {
      case Expr::Kind::kThis: return focus;
      case Expr::Kind::kExternal:
        if (expr.name == "resource" || expr.name == "context") return Inferred{true, {context_}, true};
        return Unknown();
      case Expr::Kind::kMember: {
        Inferred target = focus;
        if (expr.has_target) {
          CK_ASSIGN_OR_RETURN(target, Infer(*expr.children[0], focus));
        }
        return Member(expr, target, !expr.has_target);
      }
      case Expr::Kind::kIndex: {
        CK_ASSIGN_OR_RETURN(Inferred target, Infer(*expr.children[0], focus));
        CK_ASSIGN_OR_RETURN(Inferred index, Infer(*expr.children[1], focus));
        (void)index;
        if (!target.ordered) return Err(Error(expr, "indexing the result of children()/descendants() depends on an undefined order"));
        return target;
      }
      case Expr::Kind::kType: {
        CK_ASSIGN_OR_RETURN(Inferred operand, Infer(*expr.children[0], focus));
        (void)operand;
        CK_ASSIGN_OR_RETURN(Inferred named, Named(expr, expr.type_name));
        return expr.name == "as" ? named : Unknown();
      }
      case Expr::Kind::kFunction: return Function(expr, focus);
      case Expr::Kind::kUnary:
      case Expr::Kind::kBinary:
        for (const auto& child : expr.children) {
          CK_ASSIGN_OR_RETURN(Inferred ignored, Infer(*child, focus));
          (void)ignored;
        }
        return Unknown();
      default: return Unknown();
    }
  }

  Status Error(const Expr& expr, const std::string& what) const {
    return Status::Invalid("FHIRPath type error at " + std::to_string(expr.position) + ": " + what);
  }

  Result<Inferred> Member(const Expr& expr, const Inferred& target, bool at_start) {
    if (!target.known) return Unknown(target.ordered);
    if (target.types.empty()) return target;  // known to be empty: stays empty
    Inferred out{true, {}, target.ordered};
    for (const StaticType& t : target.types) {
      // Any resource may stand in an abstract Resource: its elements are not known here.
      if (t.type->IsAbstractResource() && t.structure == &t.type->structure) return Unknown(target.ordered);
      if (at_start && t.type->IsResource()) {
        for (const fhir::TypeDefinition* base = t.type; base != nullptr; base = base->base) {
          if (base->name == expr.name) out.types.push_back(t);
        }
      }
      for (const fhir::ElementDefinition* element : t.structure->elements) {
        if (element->name != expr.name) continue;
        for (const fhir::TypeDefinition* type : element->types) {
          out.types.push_back({type, element->inline_children != nullptr ? element->inline_children : &type->structure});
        }
      }
    }
    const fhir::TypeDefinition* named = at_start ? definitions_.FindType(expr.name) : nullptr;
    if (out.types.empty() && named != nullptr && named->IsResource() && mode_ == TypeCheck::kStandard) {
      return out;  // a path for another resource type: empty here
    }
    if (out.types.empty()) {
      std::string on = target.types.size() == 1 ? target.types[0].type->name : "any of its possible types";
      return Err(Error(expr, "'" + expr.name + "' is not an element of " + on));
    }
    return out;
  }

  // The type named in is/as/ofType; unknown for System types (a System name no value has, like
  // System.Patient, is simply never matched).
  Result<Inferred> Named(const Expr& expr, std::string_view name) {
    if (name.starts_with("System.")) return Unknown();
    if (name.starts_with("FHIR.")) name.remove_prefix(5);
    for (std::string_view s : kSystemTypes) {
      if (s == name) return Unknown();
    }
    const fhir::TypeDefinition* type = definitions_.FindType(name);
    if (type == nullptr) return Err(Error(expr, "unknown type '" + std::string(name) + "'"));
    return Inferred{true, {{type, &type->structure}}, true};
  }

  Result<Inferred> Function(Expr& expr, const Inferred& focus) {
    Inferred target = focus;
    if (expr.has_target) {
      CK_ASSIGN_OR_RETURN(target, Infer(*expr.children[0], focus));
    }
    std::size_t first_argument = expr.has_target ? 1 : 0;
    const std::string& name = expr.name;
    if (IsOrderDependent(name) && !target.ordered) {
      return Err(Error(expr, name + "() on the result of children()/descendants() depends on an undefined order"));
    }
    if ((name == "ofType" || name == "as" || name == "is") && expr.children.size() == first_argument + 1) {
      Expr& argument = *expr.children[first_argument];
      std::string type_name = argument.has_target ? argument.children[0]->name + "." + argument.name : argument.name;
      CK_ASSIGN_OR_RETURN(Inferred named, Named(argument, type_name));
      return name == "is" ? Unknown() : named;
    }
    Inferred last_argument = Unknown();
    for (std::size_t i = first_argument; i < expr.children.size(); ++i) {
      const Inferred& argument_focus = IsIterating(name, i - first_argument) ? target : focus;
      CK_ASSIGN_OR_RETURN(last_argument, Infer(*expr.children[i], argument_focus));
    }
    if (name == "children" || name == "descendants") return Unknown(false);
    if (name == "select" && expr.children.size() == first_argument + 1) return last_argument;
    if (name == "extension") {
      const fhir::TypeDefinition* extension = definitions_.FindType("Extension");
      return Inferred{true, {{extension, &extension->structure}}, true};
    }
    if (PreservesType(name)) return target;
    return Unknown();
  }

  const fhir::Definitions& definitions_;
  const StaticType context_;
  const TypeCheck mode_;
};

}  // namespace

Status CheckTypes(Expr& expr, const fhir::Definitions& definitions, const fhir::TypeDefinition& context,
                  TypeCheck mode) {
  Checker checker(definitions, context, mode);
  Inferred root{true, {{&context, &context.structure}}, true};
  CK_ASSIGN_OR_RETURN(Inferred result, checker.Infer(expr, root));
  (void)result;
  return Status::Ok();
}

}  // namespace ck::fhirpath
