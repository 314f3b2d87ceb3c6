#pragma once
// JSON Web Tokens (RFC 7519) in JWS compact form, signed and checked with a JoseKey: the access
// tokens the server issues and the client assertions SMART backend services sign. Checking is
// strict and in this order, each failure kUnauthenticated with a reason fit for a client: the
// shape (three base64url parts, JSON objects, at most kMaxJwtBytes), the header (its `alg` must
// be the key's own algorithm, found by `kid`; `crit` is refused), the signature, then the
// claims (`exp` required, `nbf` and `iat` honoured, `iss` and `aud` when expected) with a small
// leeway for clock skew.
// Thread safety: pure functions.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "access/jose_key.h"
#include "util/json_value.h"
#include "util/status.h"
#include "util/time.h"

namespace ck::access {

inline constexpr std::size_t kMaxJwtBytes = 16 * 1024;

// The compact JWS of `claims` (a JSON object) with header {"alg", "typ": "JWT", "kid"}.
// Errors: kInternal (signing failed).
Result<std::string> SignJwt(const JoseKey& key, const JsonValue& claims);

struct JwtCheck {
  Millis now = 0;
  std::string issuer;    // `iss` must equal it; empty: not checked
  std::string audience;  // `aud` (a string or an array) must hold it; empty: not checked
  std::string other_audience;  // if set, `aud` may hold this one instead
  std::int64_t leeway_seconds = 30;
  // The most `exp` may be after `now` (a client assertion lives at most five minutes); 0: any.
  std::int64_t max_lifetime_seconds = 0;
};

// The key a token names by its header's `kid` (empty when it names none), or nullptr.
using JwtKeyLookup = std::function<const JoseKey*(std::string_view kid)>;

// The claims of a token that passes every check. Errors: kUnauthenticated saying which check
// failed.
Result<JsonValue> VerifyJwt(std::string_view token, const JwtKeyLookup& keys, const JwtCheck& check);

// A claim that is a NumericDate (seconds since the epoch), or nullopt when absent or not a number.
std::optional<std::int64_t> NumericClaim(const JsonValue& claims, std::string_view name);

}  // namespace ck::access
