#pragma once
// Random identifiers: server-assigned resource ids and request ids.
// Thread safety: safe from any thread (a generator per thread).

#include <string>

namespace ck {

// A random version 4 UUID in lower-case hex ("8c5b4c0e-..."), valid as a FHIR id.
std::string RandomUuid();

}  // namespace ck
