#pragma once
// The HTTP/1.1 framing rules checked on every request head before its body is read (RFC 9112
// sections 3 and 6, RFC 9110 sections 7.2 and 10.1.1), so the server never reads a request
// differently from a proxy in front of it (request smuggling) and never trusts the parser's
// defaults for them. docs/design/http_framing.md lists each rule and why.
// Thread safety: pure functions.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace ck::rest {

// A request head as parsed, before any rule is applied.
struct RequestHead {
  std::string_view method;
  std::string_view target;
  unsigned version = 11;  // 10 or 11
  std::vector<std::pair<std::string_view, std::string_view>> fields;  // names as sent
};

struct FramingLimits {
  std::size_t max_target_bytes = 16 * 1024;
  std::size_t max_header_fields = 100;
};

struct FramingDecision {
  Status status;                // OK, or the error to answer (the connection is then closed)
  std::string target;           // the target in origin form ("/fhir/Patient?x=1")
  bool expect_continue = false;  // the client waits for "100 Continue" before sending the body
};

// Applies every rule: HTTP version, request-target form and length, exactly one valid Host,
// Transfer-Encoding (chunked only, last, once, not with Content-Length, not in HTTP/1.0),
// Content-Length (one decimal value), field count, field values without CR/LF/NUL, Expect.
// Errors: kInvalid (400), kUriTooLong (414), kHeadersTooLarge (431), kNotImplemented (501, a
// transfer coding other than chunked), kExpectationFailed (417).
FramingDecision CheckFraming(const RequestHead& head, const FramingLimits& limits);

}  // namespace ck::rest
