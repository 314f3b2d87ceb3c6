// Rotating the data key online (store/sqlite/page_rekey.h): every page ends up under the new key
// while the store keeps writing and reading, a rotation stopped midway leaves a folder both keys
// read and resumes, a page torn by a power cut is put back from the rekey journal, and a process
// that cannot take up the new key writes nothing rather than writing under the old one.
#include "store/sqlite/page_rekey.h"

#include <sqlite3.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "store/sqlite/rekey_journal.h"
#include "store/sqlite/sqlite_store.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"
#include "util/crypto.h"

namespace ck::store {
namespace {

using ck::testing::FakeClock;
using ck::testing::TempDir;
using sqlite::kEncryptedPageSize;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WritePage(const std::filesystem::path& file, std::uint64_t page, std::string_view bytes) {
  std::fstream out(file, std::ios::in | std::ios::out | std::ios::binary);
  out.seekp(static_cast<std::streamoff>((page - 1) * kEncryptedPageSize));
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Enough resources for the database to span several chunks of the rotation.
constexpr int kMany = 2500;

class PageRekeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kek_ = std::move(*Secret::Random(32));
    ASSERT_TRUE(CreateDataKey(dir_.path(), *kek_));
    old_key_ = OpenDataKeys(dir_.path(), *kek_)->current;
    ASSERT_TRUE(OpenStore().ok());
  }

  DataKeyRing::KeyLoader Loader() const {
    return [kek = kek_] { return Secret::Copy(kek->bytes()); };
  }
  std::shared_ptr<DataKeyRing> Ring() const { return *DataKeyRing::Open(dir_.path(), Loader()); }

  Status OpenStore() {
    store_.reset();
    auto store = sqlite::OpenSqliteStore({.data_dir = dir_.path(), .clock = &clock_, .data_keys = Ring(), .cache_bytes = 0});
    if (!store) return store.error();
    store_ = std::move(*store);
    return Status::Ok();
  }

  // About 1 KB that does not compress much, different for each id.
  static std::string Body(const std::string& id) {
    std::string text;
    for (int i = 0; i < 16; ++i) text += Sha256Hex(id + std::to_string(i));
    return R"({"id":")" + id + R"(","text":")" + text + R"("})";
  }

  Status Put(const std::vector<std::string>& ids) {
    return store_->Write([&](WriteTransaction& txn) -> Status {
      for (const std::string& id : ids) {
        CK_ASSIGN_OR_RETURN(auto current, txn.Current("Basic", id));
        StoredVersion v{"Basic", id, current ? current->version + 1 : 1, 0, current ? ChangeKind::kUpdate : ChangeKind::kCreate, 0, Body(id)};
        if (auto appended = txn.Append(v); !appended) return appended.error();
      }
      return Status::Ok();
    });
  }
  Status Put(const std::string& id) { return Put(std::vector<std::string>{id}); }

  // Writes <prefix>0 .. <prefix><n-1>, a hundred to a transaction.
  void PutMany(int n, const std::string& prefix = "b") {
    std::vector<std::string> batch;
    for (int i = 0; i < n; ++i) {
      batch.push_back(prefix + std::to_string(i));
      if (batch.size() == 100 || i == n - 1) {
        ASSERT_TRUE(Put(batch).ok());
        batch.clear();
      }
    }
  }

  void ExpectReadable(const std::vector<std::string>& ids) {
    for (const std::string& id : ids) {
      auto read = store_->ReadCurrent("Basic", id);
      ASSERT_TRUE(read) << id << ": " << read.error().ToString();
      ASSERT_TRUE(*read) << id << " is gone";
      EXPECT_EQ((*read)->body, Body(id));
    }
  }

  // SQLite's integrity check (which reads every page in use) through a VFS holding `keys` only.
  std::string IntegrityCheckUnder(std::shared_ptr<DataKeyRing> keys) {
    auto vfs = sqlite::EncryptedVfs::Register(std::move(keys));
    sqlite3* db = nullptr;
    std::string result;
    if (sqlite3_open_v2(sqlite::SqliteDatabasePath(dir_.path()).c_str(), &db, SQLITE_OPEN_READONLY, (*vfs)->name().c_str()) == SQLITE_OK) {
      char* error = nullptr;
      sqlite3_exec(db, "PRAGMA integrity_check", [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) += values[0];
        return 0;
      }, &result, &error);
      if (error != nullptr) result = error;
      sqlite3_free(error);
    }
    sqlite3_close(db);
    return result;
  }

  Status Rotate(const std::function<bool(const sqlite::RekeyProgress&)>& progress = [](const sqlite::RekeyProgress&) { return true; }) {
    CK_RETURN_IF_ERROR(BeginDataKeyRotation(dir_.path(), *kek_));
    CK_RETURN_IF_ERROR(sqlite::ReencryptDatabase(dir_.path(), Ring(), progress));
    return FinishDataKeyRotation(dir_.path(), *kek_);
  }

  std::filesystem::path database() const { return sqlite::SqliteDatabasePath(dir_.path()); }

  TempDir dir_;
  FakeClock clock_;
  std::shared_ptr<const Secret> kek_;
  std::shared_ptr<const Secret> old_key_;
  std::unique_ptr<ResourceStore> store_;
};

TEST_F(PageRekeyTest, EveryPageEndsUnderTheNewKeyWhileTheStoreWritesAndReads) {
  PutMany(kMany);
  std::atomic<bool> stop = false;
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<int> failed_writes = 0, failed_reads = 0;
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      const std::string id = "during" + std::to_string(i);
      if (!Put(id).ok()) {
        ++failed_writes;
        continue;
      }
      std::lock_guard lock(mu);
      acknowledged.push_back(id);
    }
  });
  std::thread reader([&] {
    for (int i = 0; !stop; i = (i + 7) % kMany) {
      auto read = store_->ReadCurrent("Basic", "b" + std::to_string(i));
      if (!read || !*read || (*read)->body != Body("b" + std::to_string(i))) ++failed_reads;
    }
  });
  int chunks = 0;
  const Status rotated = Rotate([&](const sqlite::RekeyProgress&) { return ++chunks > 0; });
  stop = true;
  writer.join();
  reader.join();
  ASSERT_TRUE(rotated.ok()) << rotated.ToString();
  EXPECT_GT(chunks, 2);
  EXPECT_EQ(failed_writes, 0);
  EXPECT_EQ(failed_reads, 0);
  EXPECT_EQ(store_->Stats()->integrity_faults, 0);
  EXPECT_FALSE(acknowledged.empty());
  PutMany(10, "after");

  const DataKeys keys = *OpenDataKeys(dir_.path(), *kek_);
  EXPECT_TRUE(keys.previous.empty());
  EXPECT_NE(keys.current->bytes(), old_key_->bytes());
  ASSERT_TRUE(OpenStore().ok());  // closed: the log is checkpointed into the file
  ExpectReadable(acknowledged);
  EXPECT_EQ(IntegrityCheckUnder(DataKeyRing::Of(keys.current)), "ok");
  EXPECT_NE(IntegrityCheckUnder(DataKeyRing::Of(old_key_)), "ok");  // the old key opens no page
  EXPECT_FALSE(std::filesystem::exists(sqlite::RekeyJournalPath(dir_.path())));
}

TEST_F(PageRekeyTest, AStoppedRotationLeavesAFolderThatReadsAndResumesWhereItWas) {
  PutMany(kMany);
  // Every page in the database file under the old key before the rotation begins: a checkpoint
  // of the log that ran after the rotation began (the store's checkpointer runs on its own
  // time) would write its pages under the new key, and the pages left under the old key when
  // the rotation stops would depend on when it ran.
  ASSERT_TRUE(OpenStore().ok());
  int chunks = 0;
  const Status stopped = Rotate([&](const sqlite::RekeyProgress&) { return ++chunks < 2; });
  ASSERT_EQ(stopped.code(), StatusCode::kUnavailable) << stopped.ToString();
  const DataKeys midway = *OpenDataKeys(dir_.path(), *kek_);
  ASSERT_EQ(midway.previous.size(), 1u);  // both keys, pages under each
  EXPECT_NE(IntegrityCheckUnder(DataKeyRing::Of(midway.current)), "ok");
  PutMany(20, "midway");
  ASSERT_TRUE(OpenStore().ok());
  ExpectReadable({"b0", "b777", "b" + std::to_string(kMany - 1), "midway19"});

  std::uint64_t rewritten_on_resume = 0;
  ASSERT_TRUE(Rotate([&](const sqlite::RekeyProgress& progress) {
                if (progress.pass == 1) rewritten_on_resume = progress.rewritten;
                return true;
              }).ok());
  const DataKeys keys = *OpenDataKeys(dir_.path(), *kek_);
  EXPECT_EQ(keys.current->bytes(), midway.current->bytes());  // the same rotation, resumed
  EXPECT_TRUE(keys.previous.empty());
  EXPECT_GT(rewritten_on_resume, 0u);
  ASSERT_TRUE(OpenStore().ok());
  ExpectReadable({"b0", "b777", "b" + std::to_string(kMany - 1), "midway19"});
  EXPECT_EQ(IntegrityCheckUnder(DataKeyRing::Of(keys.current)), "ok");
}

TEST_F(PageRekeyTest, APageTornByAPowerCutIsPutBackFromTheJournalWhenTheStoreOpens) {
  PutMany(300);
  store_.reset();
  ASSERT_TRUE(BeginDataKeyRotation(dir_.path(), *kek_).ok());
  const std::string file = ReadFile(database());
  const auto page = [&](std::uint64_t n) { return file.substr((n - 1) * kEncryptedPageSize, kEncryptedPageSize); };
  // The rotation journalled pages 1, 5 and 6 and was rewriting 1 and 5 when the power went: half
  // of each is new bytes (page 1 too, which SQLite reads first: the repair must not need it).
  // Page 6 was not reached; its journal copy is not put back over it (the journal holds page
  // 7's bytes there, which do not authenticate as page 6: nothing a put-back would be checked
  // against).
  ASSERT_TRUE(sqlite::WriteRekeyJournal(dir_.path(), {{1, page(1)}, {5, page(5)}, {6, page(7)}}).ok());
  for (std::uint64_t n : {1, 5}) {
    std::string torn = page(n);
    std::fill(torn.begin() + kEncryptedPageSize / 2, torn.end(), '\x5a');
    WritePage(database(), n, torn);
  }

  ASSERT_TRUE(OpenStore().ok());  // page 1 is whole again (and then rewritten by the store's own use)
  EXPECT_FALSE(std::filesystem::exists(sqlite::RekeyJournalPath(dir_.path())));
  ExpectReadable({"b0", "b150", "b299"});
  store_.reset();
  const std::string repaired = ReadFile(database());
  EXPECT_EQ(repaired.substr(4 * kEncryptedPageSize, kEncryptedPageSize), page(5));
  EXPECT_EQ(repaired.substr(5 * kEncryptedPageSize, kEncryptedPageSize), page(6));
  EXPECT_EQ(IntegrityCheckUnder(Ring()), "ok");
}

TEST_F(PageRekeyTest, AJournalCutShortIsIgnoredAndATornPageWithoutAGoodCopyIsAnIntegrityFault) {
  PutMany(300);
  store_.reset();
  const std::string file = ReadFile(database());
  ASSERT_TRUE(sqlite::WriteRekeyJournal(dir_.path(), {{5, file.substr(4 * kEncryptedPageSize, kEncryptedPageSize)}}).ok());
  const std::filesystem::path journal = sqlite::RekeyJournalPath(dir_.path());
  std::filesystem::resize_file(journal, std::filesystem::file_size(journal) - 1);  // cut short: no page was touched
  ASSERT_TRUE(OpenStore().ok());
  EXPECT_FALSE(std::filesystem::exists(journal));
  store_.reset();

  ASSERT_TRUE(sqlite::WriteRekeyJournal(dir_.path(), {{5, std::string(kEncryptedPageSize, '\x11')}}).ok());
  WritePage(database(), 5, std::string(kEncryptedPageSize, '\x22'));
  const Status opened = OpenStore();
  EXPECT_EQ(opened.code(), StatusCode::kCorrupt) << opened.ToString();
  EXPECT_NE(opened.message().find("torn"), std::string::npos) << opened.ToString();
  EXPECT_TRUE(std::filesystem::exists(journal));  // kept for whoever looks into it
}

TEST_F(PageRekeyTest, AProcessThatCannotOpenTheNewKeyWritesNothing) {
  PutMany(10);
  // Another process rotates the key-encryption key to one this store's source does not give,
  // then begins a data key rotation: the store cannot learn the new data key.
  const std::shared_ptr<const Secret> other = *Secret::Random(32);
  ASSERT_TRUE(AddDataKeyWrapping(dir_.path(), *kek_, *other).ok());
  ASSERT_TRUE(KeepOnlyDataKeyWrapping(dir_.path(), *other).ok());
  ASSERT_TRUE(Put("still-fine").ok());  // the key-encryption key alone changed: the data key held is current
  ASSERT_TRUE(BeginDataKeyRotation(dir_.path(), *other).ok());
  const Status refused = Put("under-the-old-key");
  ASSERT_FALSE(refused.ok());
  auto read = store_->ReadCurrent("Basic", "b3");  // reads of what it holds go on
  ASSERT_TRUE(read && *read);
  auto lost = store_->ReadCurrent("Basic", "under-the-old-key");
  EXPECT_TRUE(lost && !*lost);
}

}  // namespace
}  // namespace ck::store
