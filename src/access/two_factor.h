#pragma once
// A user's two-factor state changes (access/account.h, access/totp.h): enrolling a new TOTP key
// (pending until its first code proves the app has it), checking a code (each step usable once),
// spending a recovery code. Pure functions on a User, run inside AccountDirectory::UpdateUser so
// that two uses of one code at once cannot both succeed.
// Thread safety: pure functions.

#include <string>
#include <string_view>
#include <vector>

#include "access/account.h"

namespace ck::access {

struct TotpEnrollment {
  std::string key;                          // raw; shown once as an otpauth:// URI
  std::vector<std::string> recovery_codes;  // shown once
};

// Makes a new key and recovery codes and keeps them pending on `user` (an enrolled key, if any,
// stays in force until the new one is confirmed). Errors: those of the random generator.
Result<TotpEnrollment> StartTotpEnrollment(User& user);

// Accepts a code from the pending key (which then replaces the enrolled key and recovery codes)
// or from the enrolled key, at most once per time step. Errors: kUnauthenticated (no key, a
// wrong code, or one used already).
Status AcceptTotpCode(User& user, std::string_view code, Millis now);

// Spends one of the user's recovery codes. Errors: kUnauthenticated (not one of them).
Status SpendRecoveryCode(User& user, std::string_view code);

}  // namespace ck::access
