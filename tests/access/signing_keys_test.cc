#include "access/signing_keys.h"

#include <gtest/gtest.h>

#include "access/jwt.h"
#include "store/sqlite/sqlite_store.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"

namespace ck::access {
namespace {

constexpr Millis kDay = 24LL * 3600 * 1000;

class SigningKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::sqlite::OpenSqliteStore({.data_dir = dir_.path(), .clock = &clock_});
    ASSERT_TRUE(store);
    store_ = std::move(*store);
    keys_ = std::make_unique<SigningKeys>(*store_, clock_, options_);
  }
  std::vector<std::string> JwksKids() {
    std::vector<std::string> kids;
    const JsonValue jwks = keys_->Jwks();
    for (const JsonValue& key : jwks.Find("keys")->items) kids.push_back(key.Find("kid")->text);
    return kids;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  SigningKeyOptions options_{.rotation = 30 * kDay, .max_token_lifetime = kDay};
  std::unique_ptr<store::ResourceStore> store_;
  std::unique_ptr<SigningKeys> keys_;
};

TEST_F(SigningKeysTest, MakesOneKeyAndKeepsItAcrossRestarts) {
  auto first = keys_->Current();
  ASSERT_TRUE(first);
  EXPECT_EQ((*first)->algorithm(), JoseAlgorithm::kES256);
  EXPECT_EQ((*keys_->Current())->kid(), (*first)->kid());
  SigningKeys reopened(*store_, clock_, options_);
  auto again = reopened.Current();
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->kid(), (*first)->kid());
  // The same key: a signature of one verifies with the other.
  EXPECT_TRUE((*again)->Verify("x", *(*first)->Sign("x")));
  EXPECT_EQ(JwksKids(), std::vector<std::string>{(*first)->kid()});
  const JsonValue jwk = keys_->Jwks().Find("keys")->items[0];
  EXPECT_EQ(jwk.Find("d"), nullptr);  // public only
  EXPECT_EQ(jwk.Find("alg")->text, "ES256");
}

TEST_F(SigningKeysTest, RotatesAndServesTheOldKeyUntilItsTokensExpire) {
  auto old_key = *keys_->Current();
  auto claims = ParseJsonValue(R"({"sub":"x","exp":9999999999})");
  const std::string old_token = *SignJwt(*old_key, *claims);

  clock_.Advance(30 * kDay);
  auto new_key = *keys_->Current();
  EXPECT_NE(new_key->kid(), old_key->kid());
  EXPECT_EQ(JwksKids(), (std::vector<std::string>{old_key->kid(), new_key->kid()}));
  auto lookup = [&](std::string_view kid) -> const JoseKey* { return keys_->Find(kid).get(); };
  EXPECT_TRUE(VerifyJwt(old_token, lookup, {.now = clock_.Now()}));

  clock_.Advance(kDay + 1);
  EXPECT_EQ((*keys_->Current())->kid(), new_key->kid());
  EXPECT_EQ(JwksKids(), std::vector<std::string>{new_key->kid()});
  EXPECT_EQ(keys_->Find(old_key->kid()), nullptr);
  EXPECT_FALSE(VerifyJwt(old_token, lookup, {.now = clock_.Now()}));
  // Deleted from the store too.
  EXPECT_EQ((*store_->ListMeta("access/signing-key/", 10)).size(), 1u);
}

TEST_F(SigningKeysTest, AnUnreadableStoredKeyIsReportedNotReplaced) {
  ASSERT_TRUE(store_->Write([](store::WriteTransaction& txn) {
    return txn.WriteMeta("access/signing-key/bad", R"({"kid":"bad","created":1,"privateKey":"garbage"})");
  }).ok());
  auto current = keys_->Current();
  ASSERT_FALSE(current);
  EXPECT_EQ(current.error().code(), StatusCode::kCorrupt);
  EXPECT_EQ(keys_->Find("bad"), nullptr);
}

}  // namespace
}  // namespace ck::access
