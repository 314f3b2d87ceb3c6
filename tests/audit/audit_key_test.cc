// The audit key: made once with owner-only permissions, never inside the data folder, refused
// when others can read it; what it signs its public key verifies, and nothing else.
#include "audit/audit_key.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace ck::audit {
namespace {

TEST(AuditKeyTest, IsMadeOnceOwnerOnlyAndLoadedAgain) {
  ck::testing::TempDir dir;
  const auto file = dir.path() / "keys" / "audit.pem";
  auto made = AuditKey::LoadOrCreate(file, dir.path() / "data");
  ASSERT_TRUE(made) << made.error().ToString();
  struct stat info {};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  auto loaded = AuditKey::LoadOrCreate(file, dir.path() / "data");
  ASSERT_TRUE(loaded);
  EXPECT_EQ((*loaded)->PublicKeyPem(), (*made)->PublicKeyPem());
  EXPECT_NE((*made)->PublicKeyPem().find("BEGIN PUBLIC KEY"), std::string::npos);
}

TEST(AuditKeyTest, SignaturesVerifyWithItsPublicKeyOnly) {
  ck::testing::TempDir dir;
  auto key = AuditKey::LoadOrCreate(dir.path() / "a.pem", dir.path() / "data");
  auto other = AuditKey::LoadOrCreate(dir.path() / "b.pem", dir.path() / "data");
  ASSERT_TRUE(key && other);
  auto signature = (*key)->Sign("chartkeeper-audit head 5 abc 17");
  ASSERT_TRUE(signature);
  EXPECT_EQ(signature->size(), 64u);
  auto check = AuditKeyCheck::FromPem((*key)->PublicKeyPem());
  auto other_check = AuditKeyCheck::FromPem((*other)->PublicKeyPem());
  ASSERT_TRUE(check && other_check);
  EXPECT_TRUE((*check)->Verify("chartkeeper-audit head 5 abc 17", *signature));
  EXPECT_FALSE((*check)->Verify("chartkeeper-audit head 6 abc 17", *signature));
  EXPECT_FALSE((*other_check)->Verify("chartkeeper-audit head 5 abc 17", *signature));
  EXPECT_FALSE(AuditKeyCheck::FromPem("not a key"));
}

TEST(AuditKeyTest, RefusesAKeyOthersCanReadOrOneInsideTheDataFolder) {
  ck::testing::TempDir dir;
  const auto file = dir.path() / "audit.pem";
  ASSERT_TRUE(AuditKey::LoadOrCreate(file, dir.path() / "data"));
  ::chmod(file.c_str(), 0644);
  auto readable = AuditKey::Load(file);
  ASSERT_FALSE(readable);
  EXPECT_EQ(readable.error().code(), StatusCode::kInvalid);
  auto inside = AuditKey::LoadOrCreate(dir.path() / "data" / "audit.pem", dir.path() / "data");
  ASSERT_FALSE(inside);
  EXPECT_NE(inside.error().message().find("outside the data folder"), std::string::npos);
  EXPECT_EQ(AuditKey::Load(dir.path() / "missing.pem").error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ck::audit
