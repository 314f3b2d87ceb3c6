// The store on an encrypted database (store/sqlite/encrypted_vfs.h): nothing readable at rest,
// the right key or nothing, and a changed page is an integrity fault, never wrong data.
#include "store/sqlite/encrypted_vfs.h"

#include <sqlite3.h>

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"
#include "util/crypto.h"

namespace ck::store {
namespace {

using ck::testing::FakeClock;
using ck::testing::TempDir;

constexpr std::string_view kSecret = "Zebediah Quixote-Marchbanks";  // a name that must never reach the disk

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

class EncryptedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = std::move(*Secret::Random(32));
    ASSERT_TRUE(Open(key_).ok());
  }

  Status Open(std::shared_ptr<const Secret> key) {
    store_.reset();
    auto store = sqlite::OpenSqliteStore({.data_dir = dir_.path(), .clock = &clock_, .data_keys = key ? DataKeyRing::Of(std::move(key)) : nullptr, .cache_bytes = 0});
    if (!store) return store.error();
    store_ = std::move(*store);
    return Status::Ok();
  }

  Status Put(const std::string& id, const std::string& body) {
    return store_->Write([&](WriteTransaction& txn) -> Status {
      CK_ASSIGN_OR_RETURN(auto current, txn.Current("Patient", id));
      StoredVersion v{"Patient", id, current ? current->version + 1 : 1, 0, current ? ChangeKind::kUpdate : ChangeKind::kCreate, 0, body};
      auto appended = txn.Append(v);
      return appended ? Status::Ok() : appended.error();
    });
  }

  // Every file of the data folder, concatenated.
  std::string FolderBytes() {
    std::string all;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) all += ReadFile(entry.path());
    return all;
  }

  std::filesystem::path database() { return sqlite::SqliteDatabasePath(dir_.path()); }

  // Writes Patient p0..p<n-1> with bodies {"n":i}.
  void PutNumbered(int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(Put("p" + std::to_string(i), R"({"n":)" + std::to_string(i) + "}").ok());
  }
  // Reads them back after the files were changed: how many reads failed, each with an
  // integrity fault; the others must give the stored data, never something else. -1: the store
  // did not open (an integrity fault too).
  int FailedReads(int n) {
    Status opened = Open(key_);
    if (!opened.ok()) {
      EXPECT_EQ(opened.code(), StatusCode::kCorrupt) << opened.ToString();
      return -1;
    }
    int failed = 0;
    for (int i = 0; i < n; ++i) {
      auto read = store_->ReadCurrent("Patient", "p" + std::to_string(i));
      if (!read) {
        EXPECT_EQ(read.error().code(), StatusCode::kCorrupt) << read.error().ToString();
        ++failed;
      } else if (*read) {
        EXPECT_EQ((*read)->body, R"({"n":)" + std::to_string(i) + "}");
      } else {
        ADD_FAILURE() << "p" << i << " is gone";
      }
    }
    if (failed > 0) {
      EXPECT_GT(store_->Stats()->integrity_faults, 0);
    }
    return failed;
  }

  TempDir dir_;
  FakeClock clock_;
  std::shared_ptr<const Secret> key_;
  std::unique_ptr<ResourceStore> store_;
};

TEST_F(EncryptedStoreTest, NothingStoredIsReadableInTheFilesWhileOpenOrAfter) {
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(Put("p" + std::to_string(i), R"({"name":")" + std::string(kSecret) + R"("})").ok());
  EXPECT_TRUE(std::filesystem::exists(database().string() + "-wal"));
  EXPECT_EQ(FolderBytes().find(kSecret), std::string::npos);  // the WAL holds the pages now
  EXPECT_EQ(FolderBytes().find("resource_version"), std::string::npos);  // nor the schema
  store_.reset();
  EXPECT_EQ(FolderBytes().find(kSecret), std::string::npos);
  ASSERT_TRUE(Open(key_).ok());
  auto read = store_->ReadCurrent("Patient", "p7");
  ASSERT_TRUE(read && *read) << (read ? "" : read.error().ToString());
  EXPECT_NE((*read)->body.find(kSecret), std::string::npos);
}

TEST_F(EncryptedStoreTest, OnlyItsOwnKeyOpensItAndAWrongKeyChangesNothing) {
  ASSERT_TRUE(Put("a", R"({"v":1})").ok());
  store_.reset();
  const std::string before = ReadFile(database());
  Status wrong = Open(*Secret::Random(32));
  EXPECT_EQ(wrong.code(), StatusCode::kCorrupt) << wrong.ToString();
  EXPECT_NE(wrong.message().find("integrity"), std::string::npos) << wrong.ToString();
  Status none = Open(nullptr);
  EXPECT_EQ(none.code(), StatusCode::kInvalid) << none.ToString();
  EXPECT_NE(none.message().find("is encrypted"), std::string::npos);
  EXPECT_EQ(ReadFile(database()), before);
  EXPECT_FALSE(std::filesystem::exists(database().string() + "-wal"));
  ASSERT_TRUE(Open(key_).ok());
  EXPECT_TRUE(*store_->ReadCurrent("Patient", "a"));
}

TEST_F(EncryptedStoreTest, AClearDatabaseIsNotOpenedAsEncrypted) {
  TempDir clear;
  {
    auto store = sqlite::OpenSqliteStore({.data_dir = clear.path(), .clock = &clock_});
    ASSERT_TRUE(store);
  }
  auto refused = sqlite::OpenSqliteStore({.data_dir = clear.path(), .clock = &clock_, .data_keys = DataKeyRing::Of(key_)});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalid);
  EXPECT_NE(refused.error().message().find("not encrypted"), std::string::npos);
}

TEST_F(EncryptedStoreTest, ChangedPagesFailTheirReadsAndAreCounted) {
  PutNumbered(50);
  store_.reset();
  std::string bytes = ReadFile(database());
  for (std::size_t page = 1; page < bytes.size() / sqlite::kEncryptedPageSize; ++page) {  // all but the first
    bytes[page * sqlite::kEncryptedPageSize + 200] ^= 0x01;
  }
  WriteFile(database(), bytes);
  const int failed = FailedReads(50);
  EXPECT_TRUE(failed == 50 || failed == -1) << failed;
}

TEST_F(EncryptedStoreTest, AChangedPageInTheWriteAheadLogFailsItsRead) {
  ASSERT_TRUE(Put("a", R"({"v":1})").ok());
  const std::filesystem::path wal = database().string() + "-wal";
  std::string bytes = ReadFile(wal);
  constexpr std::size_t kFrame = 24 + sqlite::kEncryptedPageSize;
  ASSERT_GE(bytes.size(), 32u + kFrame);
  for (std::size_t frame = 32; frame + kFrame <= bytes.size(); frame += kFrame) bytes[frame + 24 + 100] ^= 0x01;
  WriteFile(wal, bytes);
  auto read = store_->ReadCurrent("Patient", "a");
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), StatusCode::kCorrupt);
  EXPECT_GT(store_->Stats()->integrity_faults, 0);
}

// Every page, changed alone, or two pages swapped: SQLite's integrity check (which reads every
// page in use) fails with an integrity fault through the VFS, never reads past it.
class EncryptedPagesTest : public EncryptedStoreTest {
 protected:
  // PRAGMA integrity_check's result code through a fresh encrypting VFS: SQLITE_OK, or
  // SQLITE_IOERR_DATA when the VFS found a page that does not authenticate (whatever code SQLite
  // itself reports it with), or SQLite's own code.
  int IntegrityCheck() {
    auto vfs = sqlite::EncryptedVfs::Register(DataKeyRing::Of(key_));
    EXPECT_TRUE(vfs);
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(database().c_str(), &db, SQLITE_OPEN_READONLY, (*vfs)->name().c_str());
    sqlite3_stmt* stmt = nullptr;
    if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr);
    std::string result;
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
      rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW) result += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    if (rc == SQLITE_DONE && result != "ok") rc = SQLITE_CORRUPT;
    const int extended = rc == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(db);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return (*vfs)->integrity_failures() > 0 && extended != SQLITE_OK ? SQLITE_IOERR_DATA : extended;
  }
};

TEST_F(EncryptedPagesTest, EachChangedPageAndASwapAreIntegrityFaults) {
  PutNumbered(300);
  store_.reset();
  ASSERT_EQ(IntegrityCheck(), SQLITE_OK);
  const std::string original = ReadFile(database());
  const std::size_t size = sqlite::kEncryptedPageSize;
  for (std::size_t page = 0; page < original.size() / size; ++page) {
    std::string changed = original;
    changed[page * size + (page == 0 ? 150 : 10)] ^= 0x80;
    WriteFile(database(), changed);
    EXPECT_EQ(IntegrityCheck(), SQLITE_IOERR_DATA) << "page " << page + 1;
  }
  std::string swapped = original;
  std::swap_ranges(swapped.begin() + size, swapped.begin() + 2 * size, swapped.begin() + 2 * size);
  WriteFile(database(), swapped);
  EXPECT_EQ(IntegrityCheck(), SQLITE_IOERR_DATA);
  WriteFile(database(), original);
  EXPECT_EQ(IntegrityCheck(), SQLITE_OK);
}

}  // namespace
}  // namespace ck::store
