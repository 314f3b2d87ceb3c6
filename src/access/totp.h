#pragma once
// Time-based one-time passwords (RFC 6238 over HOTP, RFC 4226) as authenticator apps make them:
// HMAC-SHA-1, 30-second steps, 6 digits, secrets of 20 random bytes shown in base32 (RFC 4648)
// inside an otpauth:// URI. A code is accepted for the current step and one step either side
// (clock drift), and only for a step after the last one used, so a code cannot be replayed.
// Also the single-use recovery codes given at enrollment, kept as SHA-256 hashes.
// Thread safety: all functions are safe from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/crypto.h"
#include "util/status.h"
#include "util/time.h"

namespace ck::access {

inline constexpr std::int64_t kTotpStepSeconds = 30;
inline constexpr int kTotpDigits = 6;

// Base32 (RFC 4648, upper case, no padding) and back; decoding ignores spaces and case, as
// people type it. Errors: kInvalid on another character.
std::string Base32Encode(std::string_view bytes);
Result<std::string> Base32Decode(std::string_view text);

// The HOTP value of `counter` under `key` (raw bytes), `digits` long with leading zeros.
std::string Hotp(std::string_view key, std::uint64_t counter, int digits = kTotpDigits, HmacDigest digest = HmacDigest::kSha1);

// The time step a moment falls in.
std::int64_t TotpStep(Millis now);

// The step whose code `code` is, among now's and one either side, if it comes after
// `last_used_step` (pass -1 when none was used); nullopt otherwise. `key` is the raw secret.
std::optional<std::int64_t> MatchTotp(std::string_view key, std::string_view code, Millis now, std::int64_t last_used_step);

// A new secret: 20 random bytes. Errors: those of RandomBytes.
Result<std::string> NewTotpSecret();

// otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30
std::string OtpauthUri(std::string_view issuer, std::string_view account, std::string_view key);

// Ten recovery codes ("xxxxx-xxxxx", about 50 bits each) for a user to keep.
Result<std::vector<std::string>> NewRecoveryCodes();
// How a recovery code is kept: the SHA-256 (hex) of the code as typed, dashes and case ignored.
std::string RecoveryCodeHash(std::string_view code);

}  // namespace ck::access
