#include "access/password_hash.h"

#include <gtest/gtest.h>

namespace ck::access {
namespace {

// Small parameters keep the tests quick; the encoded form carries them.
const Argon2Parameters kQuick{.memory_kib = 256, .passes = 1, .lanes = 1};

TEST(PasswordHashTest, VerifiesTheRightPasswordOnly) {
  auto hash = HashPassword("correct horse battery", kQuick);
  ASSERT_TRUE(hash);
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=256,t=1,p=1$"));
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse batterY"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
}

TEST(PasswordHashTest, SaltsEachHash) {
  auto a = HashPassword("same password here", kQuick);
  auto b = HashPassword("same password here", kQuick);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
}

TEST(PasswordHashTest, TheDefaultsAreOwaspsArgon2idParameters) {
  auto hash = HashPassword("correct horse battery");
  ASSERT_TRUE(hash);
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery"));
}

TEST(PasswordHashTest, MalformedHashesNeverMatch) {
  EXPECT_FALSE(VerifyPassword("", "x"));
  EXPECT_FALSE(VerifyPassword("plain text", "plain text"));
  EXPECT_FALSE(VerifyPassword("$argon2i$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$aGFzaA", "x"));  // not argon2id
  EXPECT_FALSE(VerifyPassword("$argon2id$v=19$m=256,t=1,p=1$!!!$???", "x"));
}

TEST(PasswordHashTest, RefusesOverlongPasswords) {
  const std::string long_password(kMaxPasswordBytes + 1, 'x');
  EXPECT_EQ(HashPassword(long_password, kQuick).error().code(), StatusCode::kInvalid);
  auto hash = HashPassword("correct horse battery", kQuick);
  EXPECT_FALSE(VerifyPassword(*hash, long_password));
}

TEST(PasswordHashTest, NewPasswordsMeetTheRules) {
  EXPECT_TRUE(CheckNewPassword("alice", "correct horse").ok());
  EXPECT_TRUE(CheckNewPassword("alice", "ünïcödé-wörd").ok());  // 12 characters, more bytes
  EXPECT_EQ(CheckNewPassword("alice", "short").code(), StatusCode::kInvalid);
  EXPECT_EQ(CheckNewPassword("alice", "ünïcödé").code(), StatusCode::kInvalid);  // 7 characters, 11 bytes
  EXPECT_EQ(CheckNewPassword("alicealicealice", "alicealicealice").code(), StatusCode::kInvalid);
  EXPECT_EQ(CheckNewPassword("alice", "aaaaaaaaaaaaaaaa").code(), StatusCode::kInvalid);
  EXPECT_EQ(CheckNewPassword("alice", std::string(kMaxPasswordBytes + 1, 'x') + "y").code(), StatusCode::kInvalid);
}

TEST(PasswordHashTest, GeneratedPasswordsAreLongRandomAndAcceptable) {
  auto a = GeneratePassword();
  auto b = GeneratePassword();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->size(), 20u);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(CheckNewPassword("admin", *a).ok());
  EXPECT_EQ(a->find_first_of("0O1lI"), std::string::npos);
}

}  // namespace
}  // namespace ck::access
