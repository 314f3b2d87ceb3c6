#pragma once
// Passwords kept as Argon2id hashes (RFC 9106) in libargon2's encoded form
// ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"), so the parameters travel with each hash and
// can be raised later without breaking old ones. The defaults are OWASP's first recommendation
// for Argon2id (19 MiB, 2 passes, 1 lane): about 25 ms per check on this project's machines,
// cheap for one login and costly for guessing. Also the rules a new password must meet and the
// random passwords the server hands out (first start, reset).
// Thread safety: all functions are safe from any thread.

#include <string>
#include <string_view>

#include "util/status.h"

namespace ck::access {

struct Argon2Parameters {
  unsigned memory_kib = 19456;
  unsigned passes = 2;
  unsigned lanes = 1;
};

// The longest password accepted (hashing cost grows with length; no one types more).
inline constexpr std::size_t kMaxPasswordBytes = 1024;

// The encoded Argon2id hash of `password` with a fresh 16-byte salt. Errors: kInvalid past
// kMaxPasswordBytes, kInternal if hashing fails (out of memory).
Result<std::string> HashPassword(std::string_view password, const Argon2Parameters& parameters = {});

// Whether `password` matches `encoded` (from HashPassword). A malformed `encoded` never matches.
bool VerifyPassword(std::string_view encoded, std::string_view password);

// Whether a new password is acceptable for `user_name` (NIST SP 800-63B: length, not the user
// name, not one character repeated); kInvalid saying which rule failed.
Status CheckNewPassword(std::string_view user_name, std::string_view password);

// A random password of 20 characters from an alphabet without look-alikes (about 115 bits).
Result<std::string> GeneratePassword();

}  // namespace ck::access
