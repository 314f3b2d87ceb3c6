#include "access/refresh_tokens.h"

#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"

namespace ck::access {
namespace {

constexpr Millis kMinute = 60 * 1000;

class RefreshTokensTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::sqlite::OpenSqliteStore({.data_dir = dir_.path(), .clock = &clock_});
    ASSERT_TRUE(store);
    store_ = std::move(*store);
    tokens_ = std::make_unique<RefreshTokens>(*store_, clock_);
  }
  RefreshGrant Grant() {
    return {.user = "dr.smith", .client_id = "ck-app", .scope = "online_access user/*.rs", .auth_time = clock_.Now(),
            .expires = clock_.Now() + 12 * 60 * kMinute, .idle = 15 * kMinute};
  }
  static void ExpectRefused(const Result<std::pair<RefreshGrant, std::string>>& result, std::string_view why) {
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), StatusCode::kUnauthenticated);
    EXPECT_NE(result.error().message().find(why), std::string::npos) << result.error().message();
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<store::ResourceStore> store_;
  std::unique_ptr<RefreshTokens> tokens_;
};

TEST_F(RefreshTokensTest, EachUseSpendsTheTokenAndGivesTheNextOfTheSameSignIn) {
  auto first = tokens_->Issue(Grant());
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->starts_with("ckr_"));
  auto rotated = tokens_->Rotate(*first, "ck-app");
  ASSERT_TRUE(rotated) << rotated.error().ToString();
  EXPECT_EQ(rotated->first.user, "dr.smith");
  EXPECT_NE(rotated->second, *first);
  auto next = tokens_->Rotate(rotated->second, "ck-app");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->first.family, rotated->first.family);
}

TEST_F(RefreshTokensTest, AReusedTokenRevokesItsWholeFamilyButNoOther) {
  auto first = *tokens_->Issue(Grant());
  auto other = *tokens_->Issue(Grant());
  auto second = tokens_->Rotate(first, "ck-app")->second;
  ExpectRefused(tokens_->Rotate(first, "ck-app"), "used before");
  ExpectRefused(tokens_->Rotate(second, "ck-app"), "revoked");
  EXPECT_FALSE(*tokens_->Find(second));
  EXPECT_TRUE(tokens_->Rotate(other, "ck-app"));
}

TEST_F(RefreshTokensTest, ATokenLapsesWhenIdleOrWhenItsSignInEnds) {
  auto token = *tokens_->Issue(Grant());
  clock_.Advance(14 * kMinute);
  token = tokens_->Rotate(token, "ck-app")->second;  // used in time: the idle clock starts again
  clock_.Advance(15 * kMinute);
  ExpectRefused(tokens_->Rotate(token, "ck-app"), "automatic logoff");

  RefreshGrant short_lived = Grant();
  short_lived.expires = clock_.Now() + 20 * kMinute;
  auto ending = *tokens_->Issue(short_lived);
  for (int i = 0; i < 2; ++i) {
    clock_.Advance(10 * kMinute);
    auto rotated = tokens_->Rotate(ending, "ck-app");
    if (i == 0) {
      ASSERT_TRUE(rotated);
      ending = rotated->second;
    } else {
      ExpectRefused(rotated, "expired");
    }
  }
}

TEST_F(RefreshTokensTest, OnlyTheClientItWasIssuedToMayUseOrRevokeIt) {
  auto token = *tokens_->Issue(Grant());
  ExpectRefused(tokens_->Rotate(token, "ck-other"), "another client");
  EXPECT_TRUE(tokens_->Revoke(token, "ck-other").ok());
  EXPECT_TRUE(*tokens_->Find(token));
  EXPECT_TRUE(tokens_->Revoke(token, "ck-app").ok());
  ExpectRefused(tokens_->Rotate(token, "ck-app"), "revoked");
  ExpectRefused(tokens_->Rotate("ckr_unknown", "ck-app"), "unknown");
  EXPECT_TRUE(tokens_->Revoke("ckr_unknown", "ck-app").ok());
}

}  // namespace
}  // namespace ck::access
