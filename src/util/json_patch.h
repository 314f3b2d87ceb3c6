#pragma once
// JSON Patch (RFC 6902) over any JSON value: add, remove, replace, move, copy and test, with
// paths as JSON Pointers (RFC 6901). FHIR's PATCH interaction takes it as
// application/json-patch+json (records/resource_patch.h applies it to a resource's JSON).
// The operations apply in order and all or none: on an error the caller keeps its original.
// Thread safety: pure functions.

#include <cstddef>

#include "util/json_value.h"
#include "util/status.h"

namespace ck {

struct JsonPatchOptions {
  // Most values the document may hold while patched: `copy` doubles what it copies, so a short
  // patch could otherwise grow a document without bound.
  std::size_t max_values = 1'000'000;
};

// Applies `patch` (a JSON array of operation objects) to `document`.
// Errors: kInvalid (HTTP 400) when the patch is malformed: not an array of objects, an unknown
// op, a missing or mistyped member, a pointer that is not one, `move` into its own child;
// kUnprocessable (422) when it cannot apply to this document: a path that does not exist, an
// array index out of range, a failing `test`, a result past max_values. Messages name the
// operation's index and path.
Result<JsonValue> ApplyJsonPatch(JsonValue document, const JsonValue& patch, const JsonPatchOptions& options = {});

}  // namespace ck
