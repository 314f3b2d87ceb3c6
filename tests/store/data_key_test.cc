// The data key file (store/data_key.h): a data key rotation keeps the old key as previous until
// it is finished, resumes rather than starting over, survives a key-encryption key rotation in
// between; version 1 files still open; a running process's ring follows the file.
#include "store/data_key.h"

#include <fstream>
#include <iterator>
#include <sstream>

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace ck::store {
namespace {

using ck::testing::TempDir;

class DataKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kek_ = std::move(*Secret::Random(32));
    ASSERT_TRUE(CreateDataKey(dir_.path(), *kek_));
  }
  DataKeys Keys(const Secret& kek) const {
    auto keys = OpenDataKeys(dir_.path(), kek);
    EXPECT_TRUE(keys) << keys.error().ToString();
    return keys ? *keys : DataKeys{};
  }
  std::string FileText() const {
    std::ifstream in(DataKeyPath(dir_.path()));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  TempDir dir_;
  std::shared_ptr<const Secret> kek_;
};

TEST_F(DataKeyTest, ARotationKeepsTheOldKeyAsPreviousUntilItIsFinishedAndResumesWhenBegunAgain) {
  const DataKeys before = Keys(*kek_);
  EXPECT_TRUE(before.previous.empty());
  ASSERT_TRUE(BeginDataKeyRotation(dir_.path(), *kek_).ok());
  const DataKeys during = Keys(*kek_);
  ASSERT_EQ(during.previous.size(), 1u);
  EXPECT_EQ(during.previous[0]->bytes(), before.current->bytes());
  EXPECT_NE(during.current->bytes(), before.current->bytes());
  EXPECT_NE(during.current_id, before.current_id);

  ASSERT_TRUE(BeginDataKeyRotation(dir_.path(), *kek_).ok());  // resumed, not a third key
  EXPECT_EQ(Keys(*kek_).current->bytes(), during.current->bytes());
  EXPECT_EQ(Keys(*kek_).previous.size(), 1u);

  ASSERT_TRUE(FinishDataKeyRotation(dir_.path(), *kek_).ok());
  const DataKeys after = Keys(*kek_);
  EXPECT_EQ(after.current->bytes(), during.current->bytes());
  EXPECT_TRUE(after.previous.empty());
  EXPECT_EQ(FileText().find(std::string(after.current->bytes())), std::string::npos);
}

TEST_F(DataKeyTest, AKeyEncryptionKeyRotationInTheMiddleCarriesBothKeysAndAnUnfinishedOneBlocksADataKeyRotation) {
  ASSERT_TRUE(BeginDataKeyRotation(dir_.path(), *kek_).ok());
  const DataKeys during = Keys(*kek_);
  const std::shared_ptr<const Secret> next = *Secret::Random(32);
  ASSERT_TRUE(AddDataKeyWrapping(dir_.path(), *kek_, *next).ok());
  const Status blocked = FinishDataKeyRotation(dir_.path(), *kek_);
  EXPECT_EQ(blocked.code(), StatusCode::kInvalid);
  EXPECT_NE(blocked.message().find("did not finish"), std::string::npos) << blocked.ToString();

  ASSERT_TRUE(KeepOnlyDataKeyWrapping(dir_.path(), *next).ok());
  const DataKeys moved = Keys(*next);
  EXPECT_EQ(moved.current->bytes(), during.current->bytes());
  ASSERT_EQ(moved.previous.size(), 1u);
  EXPECT_EQ(moved.previous[0]->bytes(), during.previous[0]->bytes());
  EXPECT_FALSE(OpenDataKeys(dir_.path(), *kek_));
  EXPECT_TRUE(FinishDataKeyRotation(dir_.path(), *next).ok());
}

TEST_F(DataKeyTest, AVersionOneFileOpensAndADamagedOneIsCorrupt) {
  const DataKeys keys = Keys(*kek_);
  std::istringstream lines(FileText());
  std::string line, version1 = "chartkeeper-data-key 1\n";
  std::getline(lines, line);
  while (std::getline(lines, line)) version1 += line.substr(line.rfind(' ') + 1) + "\n";  // no role, no id
  std::ofstream(DataKeyPath(dir_.path()), std::ios::trunc) << version1;
  EXPECT_EQ(Keys(*kek_).current->bytes(), keys.current->bytes());
  EXPECT_EQ(Keys(*kek_).current_id, keys.current_id);

  std::ofstream(DataKeyPath(dir_.path()), std::ios::trunc) << "chartkeeper-data-key 2\nsomething else\n";
  auto damaged = OpenDataKeys(dir_.path(), *kek_);
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().code(), StatusCode::kCorrupt);
}

TEST_F(DataKeyTest, ARingFollowsTheFileAndLoadsTheKeyEncryptionKeyAgainWhenItWasRotated) {
  std::shared_ptr<const Secret> source = kek_;  // what the key's source gives now
  auto ring = DataKeyRing::Open(dir_.path(), [&] { return Secret::Copy(source->bytes()); });
  ASSERT_TRUE(ring) << ring.error().ToString();
  const std::shared_ptr<const DataKeys> first = (*ring)->keys();
  EXPECT_FALSE(*(*ring)->Refresh());  // unchanged

  const std::shared_ptr<const Secret> next = *Secret::Random(32);
  ASSERT_TRUE(AddDataKeyWrapping(dir_.path(), *kek_, *next).ok());
  ASSERT_TRUE(KeepOnlyDataKeyWrapping(dir_.path(), *next).ok());
  EXPECT_FALSE(*(*ring)->Refresh());  // the same data key, under another key-encryption key
  EXPECT_EQ((*ring)->keys(), first);

  source = next;
  ASSERT_TRUE(BeginDataKeyRotation(dir_.path(), *next).ok());
  auto refreshed = (*ring)->Refresh();
  ASSERT_TRUE(refreshed) << refreshed.error().ToString();
  EXPECT_TRUE(*refreshed);
  EXPECT_NE((*ring)->keys()->current->bytes(), first->current->bytes());
  ASSERT_EQ((*ring)->keys()->previous.size(), 1u);
  EXPECT_EQ((*ring)->keys()->previous[0]->bytes(), first->current->bytes());
}

}  // namespace
}  // namespace ck::store
