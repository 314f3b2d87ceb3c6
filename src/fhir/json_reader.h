#pragma once
// Reads FHIR JSON into a bound resource tree, enforcing the FHIR R4 JSON rules.
//
// Two steps, like parse-then-bind in a compiler: a SAX pass (RapidJSON, numbers kept as their
// source text, UTF-8 validated, iterative so hostile nesting cannot overflow the stack) builds the
// tree and rejects what is not FHIR JSON at all; a binding pass walks it against the R4
// definitions, resolving choice types and nested resources, and collects every problem with its
// FHIRPath location.
//
// Every check is linear in the input (hash lookups, no scan per key), and the issues collected
// are capped (BindOptions::max_issues), so hostile bodies cost time and memory in proportion to
// their size and get an answer of bounded size.
//
// Errors (all returned, never thrown):
//  - kInvalid (HTTP 400): not JSON, bad UTF-8, too deep, duplicate keys, nulls outside arrays,
//    empty strings/arrays/objects, unknown elements, wrong JSON types, bad primitive lexical forms,
//    an array where one value is allowed or the reverse, wrong or unknown resourceType;
//  - kUnprocessable (HTTP 422): well-formed, but a required element is missing or an element has
//    more values than its definition allows.
// Thread safety: pure functions over immutable Definitions.

#include <string_view>

#include "fhir/definitions.h"
#include "fhir/resource.h"
#include "util/status.h"

namespace ck::fhir {

struct BindOptions {
  // Whether to refuse missing required elements and too many values (kUnprocessable). Off only
  // for tools that must read imperfect data (e.g. FHIRPath test inputs). Default on.
  bool enforce_cardinality = true;
  // Most issues collected; binding stops once reached and a last issue says more may follow,
  // so a hostile body cannot make the answer (or the work) grow with its size. Default 100.
  std::size_t max_issues = 100;
};

struct ReadOptions {
  // Deepest nesting of objects and arrays accepted. Default 64 (FHIR resources rarely pass 20).
  unsigned max_depth = 64;
  BindOptions bind;
};

// Parses `json` as one resource of any concrete type (ParseJsonTree, then BindResource).
Result<Resource> ReadResource(std::string_view json, const Definitions& definitions,
                              const ReadOptions& options = {});

// Step 1 alone: the unbound tree of a JSON object (FHIR JSON rules that need no definitions
// applied). Lets a caller take a Bundle apart and bind each entry on its own.
Result<Node> ParseJsonTree(std::string_view json, const ReadOptions& options = {});

// Step 2 alone: binds an unbound tree as a resource of any concrete type.
Result<Resource> BindResource(Node root, const Definitions& definitions, const BindOptions& options = {});

}  // namespace ck::fhir
