// Where the encryption keys come from and how they turn (cli/encryption_keys.h): a new folder
// gets a key file beside it; a wrong, missing or loosely kept key is refused with a clear error
// and changes nothing; rotation leaves only the new key able to open the folder.
#include "cli/encryption_keys.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "store/data_key.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"
#include "util/crypto.h"

namespace ck::cli {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteKeyFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

class EncryptionKeysTest : public ::testing::Test {
 protected:
  EncryptionKeysTest() { config_.data_dir = dir_.path() / "var"; }
  ~EncryptionKeysTest() override { ::unsetenv("CHARTKEEPER_ENCRYPTION_KEY"); }

  std::filesystem::path key_file() const { return dir_.path() / "var-encryption-key"; }

  testing::TempDir dir_;
  Config config_;
};

TEST_F(EncryptionKeysTest, ANewFolderGetsAKeyFileOnlyItsOwnerReadsAndOpensWithItAgain) {
  auto made = DataKeyFor(config_);
  ASSERT_TRUE(made && *made) << made.error().ToString();
  EXPECT_EQ(EncryptionKeyPath(config_), key_file());
  struct stat info {};
  ASSERT_EQ(::stat(key_file().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(ReadFile(key_file()).size(), 65u);  // 64 hex digits and a newline
  EXPECT_TRUE(store::HasDataKey(config_.data_dir));
  auto again = DataKeyFor(config_);
  ASSERT_TRUE(again && *again);
  EXPECT_EQ((*again)->keys()->current->bytes(), (*made)->keys()->current->bytes());
}

TEST_F(EncryptionKeysTest, AWrongMissingOrLooselyKeptKeyIsRefusedAndNothingChanges) {
  ASSERT_TRUE(DataKeyFor(config_));
  const std::string wrapped = ReadFile(store::DataKeyPath(config_.data_dir));

  std::filesystem::permissions(key_file(), std::filesystem::perms::group_read, std::filesystem::perm_options::add);
  auto loose = DataKeyFor(config_);
  ASSERT_FALSE(loose);
  EXPECT_EQ(loose.error().code(), StatusCode::kInvalid);
  EXPECT_NE(loose.error().message().find("readable by others"), std::string::npos);

  WriteKeyFile(key_file(), HexEncode(*RandomBytes(32)) + "\n");
  auto wrong = DataKeyFor(config_);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), StatusCode::kInvalid);
  EXPECT_NE(wrong.error().message().find("does not open"), std::string::npos);

  WriteKeyFile(key_file(), "not a key\n");
  auto malformed = DataKeyFor(config_);
  ASSERT_FALSE(malformed);
  EXPECT_NE(malformed.error().message().find("64 hexadecimal digits"), std::string::npos);

  std::filesystem::remove(key_file());
  auto missing = DataKeyFor(config_);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(key_file()));  // never made again for a folder that has data
  EXPECT_EQ(ReadFile(store::DataKeyPath(config_.data_dir)), wrapped);
}

TEST_F(EncryptionKeysTest, TheKeyMayComeFromTheEnvironmentOrACommand) {
  const std::string key = HexEncode(*RandomBytes(32));
  ::setenv("CHARTKEEPER_ENCRYPTION_KEY", key.c_str(), 1);
  auto made = DataKeyFor(config_);
  ASSERT_TRUE(made && *made) << made.error().ToString();
  EXPECT_FALSE(std::filesystem::exists(key_file()));  // no key file when the key comes from elsewhere
  ::unsetenv("CHARTKEEPER_ENCRYPTION_KEY");

  config_.encryption_key_command = "printf '%s\\n' " + key;
  auto by_command = DataKeyFor(config_);
  ASSERT_TRUE(by_command && *by_command) << by_command.error().ToString();
  EXPECT_EQ((*by_command)->keys()->current->bytes(), (*made)->keys()->current->bytes());

  config_.encryption_key_command = "echo the vault is sealed >&2; exit 3";
  auto failed = DataKeyFor(config_);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message().find("exit status 3"), std::string::npos);
}

TEST_F(EncryptionKeysTest, EncryptionOffAndOnEachRefuseTheOtherKindOfFolder) {
  ASSERT_TRUE(DataKeyFor(config_));
  config_.encryption = "off";
  auto off = DataKeyFor(config_);
  ASSERT_FALSE(off);
  EXPECT_NE(off.error().message().find("is encrypted"), std::string::npos);

  Config clear;
  clear.data_dir = dir_.path() / "clear";
  clear.encryption = "off";
  auto none = DataKeyFor(clear);
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, nullptr);
  SystemClock clock;
  ASSERT_TRUE(store::sqlite::OpenSqliteStore({.data_dir = clear.data_dir, .clock = &clock}));
  clear.encryption = "on";
  auto refused = DataKeyFor(clear);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("is not encrypted"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "clear-encryption-key"));
}

TEST_F(EncryptionKeysTest, RotationLeavesOnlyTheNewKeyAbleToOpenTheFolder) {
  auto data_key = DataKeyFor(config_);
  ASSERT_TRUE(data_key);
  const std::string old_key = ReadFile(key_file());
  ASSERT_TRUE(RotateKeyEncryptionKey(config_, "").ok());
  EXPECT_NE(ReadFile(key_file()), old_key);
  EXPECT_FALSE(std::filesystem::exists(key_file().string() + ".new"));
  auto reopened = DataKeyFor(config_);
  ASSERT_TRUE(reopened && *reopened);
  EXPECT_EQ((*reopened)->keys()->current->bytes(), (*data_key)->keys()->current->bytes());  // the pages need no change
  WriteKeyFile(dir_.path() / "old-key", old_key);
  Config old = config_;
  old.encryption_key_file = dir_.path() / "old-key";
  EXPECT_FALSE(DataKeyFor(old));

  // A new key made elsewhere (a KMS), given as a file.
  WriteKeyFile(dir_.path() / "kms-key", HexEncode(*RandomBytes(32)));
  ASSERT_TRUE(RotateKeyEncryptionKey(config_, dir_.path() / "kms-key").ok());
  EXPECT_FALSE(DataKeyFor(config_));  // the key file no longer opens it
  Config kms = config_;
  kms.encryption_key_file = dir_.path() / "kms-key";
  auto by_kms = DataKeyFor(kms);
  ASSERT_TRUE(by_kms && *by_kms);
  EXPECT_EQ((*by_kms)->keys()->current->bytes(), (*data_key)->keys()->current->bytes());
}

TEST_F(EncryptionKeysTest, ARotationStoppedHalfwayLeavesAFolderEitherKeyOpens) {
  ASSERT_TRUE(DataKeyFor(config_));
  auto old_key = LoadKeyEncryptionKey(config_);
  auto new_key = Secret::Random(32);
  ASSERT_TRUE(store::AddDataKeyWrapping(config_.data_dir, **old_key, **new_key).ok());
  EXPECT_TRUE(store::OpenDataKeys(config_.data_dir, **old_key));
  EXPECT_TRUE(store::OpenDataKeys(config_.data_dir, **new_key));
  ASSERT_TRUE(store::KeepOnlyDataKeyWrapping(config_.data_dir, **new_key).ok());
  EXPECT_FALSE(store::OpenDataKeys(config_.data_dir, **old_key));
  EXPECT_TRUE(store::OpenDataKeys(config_.data_dir, **new_key));
}

TEST_F(EncryptionKeysTest, TheKeyFileMustLieOutsideTheDataFolder) {
  config_.encryption_key_file = config_.data_dir / "key";
  auto refused = DataKeyFor(config_);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("outside the data folder"), std::string::npos);
}

}  // namespace
}  // namespace ck::cli
