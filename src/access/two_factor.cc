#include "access/two_factor.h"

#include <algorithm>

#include "access/totp.h"
#include "util/crypto.h"

namespace ck::access {

Result<TotpEnrollment> StartTotpEnrollment(User& user) {
  TotpEnrollment enrollment;
  CK_ASSIGN_OR_RETURN(enrollment.key, NewTotpSecret());
  CK_ASSIGN_OR_RETURN(enrollment.recovery_codes, NewRecoveryCodes());
  user.totp_pending_key = enrollment.key;
  user.pending_recovery_code_hashes.clear();
  for (const std::string& code : enrollment.recovery_codes) user.pending_recovery_code_hashes.push_back(RecoveryCodeHash(code));
  return enrollment;
}

Status AcceptTotpCode(User& user, std::string_view code, Millis now) {
  if (!user.totp_pending_key.empty()) {
    if (std::optional<std::int64_t> step = MatchTotp(user.totp_pending_key, code, now, -1)) {
      user.totp_key = std::move(user.totp_pending_key);
      user.totp_pending_key.clear();
      user.recovery_code_hashes = std::move(user.pending_recovery_code_hashes);
      user.pending_recovery_code_hashes.clear();
      user.totp_last_step = *step;
      return Status::Ok();
    }
  }
  if (user.totp_enrolled()) {
    if (std::optional<std::int64_t> step = MatchTotp(user.totp_key, code, now, user.totp_last_step)) {
      user.totp_last_step = *step;
      return Status::Ok();
    }
  }
  return Status(StatusCode::kUnauthenticated, "the one-time code is wrong or was used already");
}

Status SpendRecoveryCode(User& user, std::string_view code) {
  const std::string hash = RecoveryCodeHash(code);
  auto found = std::find_if(user.recovery_code_hashes.begin(), user.recovery_code_hashes.end(),
                            [&](const std::string& kept) { return ConstantTimeEquals(kept, hash); });
  if (found == user.recovery_code_hashes.end()) return Status(StatusCode::kUnauthenticated, "not a recovery code of this user");
  user.recovery_code_hashes.erase(found);
  return Status::Ok();
}

}  // namespace ck::access
