#pragma once
// The parsed form of a FHIRPath expression. `a.b` is a kMember node on `a`; a bare `b` is a
// kMember with no target (it applies to the focus). Functions carry their target the same way.
// Thread safety: immutable after parsing; evaluate from any thread.

#include <memory>
#include <string>
#include <vector>

#include "fhirpath/value.h"

namespace ck::fhirpath {

struct Expr {
  enum class Kind : std::uint8_t {
    kLiteral,   // `literal`; kEmpty for `{}`
    kEmpty,
    kMember,    // name, target (children[0], optional)
    kFunction,  // name, target (optional, see has_target), arguments
    kIndex,     // children[0][children[1]]
    kUnary,     // name "-" or "+", children[0]
    kBinary,    // name is the operator, children[0] op children[1]
    kType,      // name "is" / "as", children[0], type_name
    kThis,
    kIndexVariable,
    kTotal,
    kExternal,  // %name
  };
  Kind kind = Kind::kEmpty;
  std::string name;
  std::string type_name;  // kType: the (possibly qualified) type
  bool has_target = false;
  Value literal;
  std::vector<std::unique_ptr<Expr>> children;  // target first when has_target
  std::size_t position = 0;                      // offset in the source text
};

}  // namespace ck::fhirpath
