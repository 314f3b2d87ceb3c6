#include "access/two_factor.h"

#include <gtest/gtest.h>

#include "access/totp.h"

namespace ck::access {
namespace {

constexpr Millis kNow = 1'700'000'000'000;

std::string CodeAt(const std::string& key, Millis when) { return Hotp(key, static_cast<std::uint64_t>(TotpStep(when))); }

TEST(TwoFactorTest, AnEnrollmentTakesEffectWithItsFirstCode) {
  User user;
  auto enrollment = StartTotpEnrollment(user);
  ASSERT_TRUE(enrollment);
  EXPECT_FALSE(user.totp_enrolled());
  EXPECT_EQ(user.pending_recovery_code_hashes.size(), 10u);
  EXPECT_EQ(AcceptTotpCode(user, "000000", kNow).code(), StatusCode::kUnauthenticated);
  EXPECT_FALSE(user.totp_enrolled());

  ASSERT_TRUE(AcceptTotpCode(user, CodeAt(enrollment->key, kNow), kNow).ok());
  EXPECT_TRUE(user.totp_enrolled());
  EXPECT_EQ(user.totp_key, enrollment->key);
  EXPECT_TRUE(user.totp_pending_key.empty());
  EXPECT_EQ(user.recovery_code_hashes.size(), 10u);
  EXPECT_TRUE(user.pending_recovery_code_hashes.empty());
  EXPECT_EQ(user.totp_last_step, TotpStep(kNow));
}

TEST(TwoFactorTest, ACodeWorksOncePerStep) {
  User user;
  auto enrollment = StartTotpEnrollment(user);
  ASSERT_TRUE(AcceptTotpCode(user, CodeAt(enrollment->key, kNow), kNow).ok());
  EXPECT_EQ(AcceptTotpCode(user, CodeAt(enrollment->key, kNow), kNow).code(), StatusCode::kUnauthenticated);
  const Millis later = kNow + 30'000;
  EXPECT_TRUE(AcceptTotpCode(user, CodeAt(enrollment->key, later), later).ok());
}

TEST(TwoFactorTest, ReEnrollingKeepsTheOldKeyUntilTheNewOneIsConfirmed) {
  User user;
  auto first = StartTotpEnrollment(user);
  ASSERT_TRUE(AcceptTotpCode(user, CodeAt(first->key, kNow), kNow).ok());
  const std::vector<std::string> old_codes = user.recovery_code_hashes;
  auto second = StartTotpEnrollment(user);
  const Millis later = kNow + 30'000;
  EXPECT_TRUE(AcceptTotpCode(user, CodeAt(first->key, later), later).ok());  // the old key still works
  EXPECT_EQ(user.recovery_code_hashes, old_codes);
  const Millis later_still = later + 30'000;
  ASSERT_TRUE(AcceptTotpCode(user, CodeAt(second->key, later_still), later_still).ok());
  EXPECT_EQ(user.totp_key, second->key);
  EXPECT_NE(user.recovery_code_hashes, old_codes);
}

TEST(TwoFactorTest, WithoutAKeyNoCodeIsAccepted) {
  User user;
  EXPECT_EQ(AcceptTotpCode(user, "123456", kNow).code(), StatusCode::kUnauthenticated);
}

TEST(TwoFactorTest, RecoveryCodesAreSpentOnce) {
  User user;
  auto enrollment = StartTotpEnrollment(user);
  ASSERT_TRUE(AcceptTotpCode(user, CodeAt(enrollment->key, kNow), kNow).ok());
  const std::string code = enrollment->recovery_codes[3];
  ASSERT_TRUE(SpendRecoveryCode(user, code).ok());
  EXPECT_EQ(user.recovery_code_hashes.size(), 9u);
  EXPECT_EQ(SpendRecoveryCode(user, code).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(SpendRecoveryCode(user, "aaaaa-bbbbb").code(), StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace ck::access
