#include "access/login_throttle.h"

#include <gtest/gtest.h>

namespace ck::access {
namespace {

constexpr Millis kStart = 1'700'000'000'000;
constexpr Millis kMinute = 60 * 1000;

TEST(LoginThrottleTest, AUserLocksAfterFiveFailuresForADoublingTime) {
  LoginThrottle throttle;
  Millis now = kStart;
  for (int i = 0; i < 4; ++i) EXPECT_EQ(throttle.Failed("ann", "10.0.0.1", now), 0);
  EXPECT_EQ(throttle.LockedUntil("ann", "10.0.0.9", now), 0);
  EXPECT_EQ(throttle.Failed("ann", "10.0.0.1", now), now + kMinute);
  EXPECT_EQ(throttle.LockedUntil("ann", "10.0.0.9", now), now + kMinute);  // from any address
  EXPECT_EQ(throttle.LockedUntil("bob", "10.0.0.9", now), 0);
  now += kMinute;
  EXPECT_EQ(throttle.LockedUntil("ann", "10.0.0.1", now), 0);
  EXPECT_EQ(throttle.Failed("ann", "10.0.0.1", now), now + 2 * kMinute);
  for (int i = 0; i < 10; ++i) throttle.Failed("ann", "10.0.0.1", now);
  EXPECT_EQ(throttle.LockedUntil("ann", "10.0.0.1", now), now + 60 * kMinute);  // capped at an hour
}

TEST(LoginThrottleTest, AnAddressLocksAfterTwentyFailuresAcrossUserNames) {
  LoginThrottle throttle;
  for (int i = 0; i < 19; ++i) EXPECT_EQ(throttle.Failed("user" + std::to_string(i), "10.0.0.2", kStart), 0);
  EXPECT_EQ(throttle.Failed("user19", "10.0.0.2", kStart), kStart + kMinute);
  EXPECT_NE(throttle.LockedUntil("someone-new", "10.0.0.2", kStart), 0);
  EXPECT_EQ(throttle.LockedUntil("someone-new", "10.0.0.3", kStart), 0);
}

TEST(LoginThrottleTest, ASuccessClearsTheUserButNotTheAddressAndOldFailuresAreForgotten) {
  LoginThrottle throttle;
  for (int i = 0; i < 4; ++i) throttle.Failed("ann", "10.0.0.1", kStart);
  throttle.Succeeded("ann");
  EXPECT_EQ(throttle.Failed("ann", "10.0.0.1", kStart), 0);
  for (int i = 0; i < 3; ++i) throttle.Failed("ann", "10.0.0.1", kStart);
  EXPECT_EQ(throttle.Failed("ann", "10.0.0.1", kStart + 25 * 60 * kMinute), 0);  // a day later: counting from one
}

}  // namespace
}  // namespace ck::access
