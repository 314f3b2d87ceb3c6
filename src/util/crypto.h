#pragma once
// Small wrappers over OpenSSL 3 for the secrets the server makes and checks: random bytes from
// the system's CSPRNG, SHA-256, HMAC, comparison in constant time, base64url. Nothing here keeps
// state; a failure of the random generator is a fault of the platform, reported as kInternal.
// Thread safety: all functions are safe from any thread.

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace ck {

// `count` bytes from OpenSSL's CSPRNG (RAND_bytes). Errors: kInternal when it cannot supply them.
Result<std::string> RandomBytes(std::size_t count);

// A random string of `length` characters, each drawn uniformly from `alphabet` (at most 256
// characters). Errors: those of RandomBytes.
Result<std::string> RandomString(std::size_t length, std::string_view alphabet);

// The SHA-256 digest of `data`: 32 raw bytes, or 64 lower-case hex digits.
std::string Sha256(std::string_view data);
std::string Sha256Hex(std::string_view data);

enum class HmacDigest { kSha1, kSha256, kSha512 };
// HMAC of `data` under `key` (raw bytes).
std::string Hmac(HmacDigest digest, std::string_view key, std::string_view data);

// Whether a and b are equal, in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Lower-case hex of raw bytes.
std::string HexEncode(std::string_view bytes);

// Base64 with padding (RFC 4648 section 4), as FHIR's base64Binary and PEM use it.
std::string Base64Encode(std::string_view bytes);
// Errors: kInvalid when `text` is not padded base64.
Result<std::string> Base64Decode(std::string_view text);

// Base64url without padding (RFC 4648 section 5), as JOSE and PKCE use it.
std::string Base64UrlEncode(std::string_view bytes);
// Errors: kInvalid on a character outside the alphabet, padding, or an impossible length.
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace ck
