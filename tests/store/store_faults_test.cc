// Specification of the SQLite store under faults: I/O errors and a full disk injected at chosen
// writes by a VFS shim, clocks that step back, corrupted pages of bodies, operations that throw
// anything, and reads that run too long. The rule throughout: what a caller is told matches what
// is stored, and nothing already stored is lost.
#include <sqlite3.h>

#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "store/sqlite/sqlite_connection.h"
#include "store/sqlite/sqlite_store.h"
#include "support/fake_clock.h"
#include "support/fault_vfs.h"
#include "support/temp_dir.h"

namespace ck::store {
namespace {

using ck::testing::Fault;
using ck::testing::FaultVfs;
using ck::testing::FakeClock;
using ck::testing::TempDir;

WriteOperation PutOperation(std::string type, std::string id, std::string body) {
  return [type = std::move(type), id = std::move(id), body = std::move(body)](WriteTransaction& txn) -> Status {
    CK_ASSIGN_OR_RETURN(auto current, txn.Current(type, id));
    StoredVersion v{type, id, current ? current->version + 1 : 1, 0, current ? ChangeKind::kUpdate : ChangeKind::kCreate, 0, body};
    CK_ASSIGN_OR_RETURN(std::int64_t seq, txn.Append(v));
    (void)seq;
    return Status::Ok();
  };
}

std::string Incompressible(std::size_t size) {
  std::mt19937_64 random(42);
  std::string out;
  out.reserve(size);
  while (out.size() < size) out += static_cast<char>('!' + random() % 90);
  return out;
}

class StoreFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vfs_.Clear();
    vfs_.TakeInjected();
    Open();
  }
  void TearDown() override { vfs_.Clear(); }
  void Open(std::chrono::milliseconds time_limit = std::chrono::milliseconds(10'000)) {
    store_.reset();
    auto store = sqlite::OpenSqliteStore(
        // The writer's cache at SQLite's default: a large write spills pages to the WAL mid-transaction.
        {.data_dir = dir_.path(), .clock = &clock_, .vfs = ck::testing::kFaultVfs, .writer_cache_bytes = 2u << 20,
         .query_time_limit = time_limit});
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
  }
  bool Stored(const std::string& id) {
    auto current = store_->ReadCurrent("Basic", id);
    EXPECT_TRUE(current) << current.error().ToString();
    return current && *current;
  }

  // Runs `faulty` and `others` plain puts in one group commit: a first operation holds the
  // writer until the others are queued behind it.
  std::pair<Status, std::vector<Status>> RunBatch(WriteOperation faulty, int others) {
    std::mutex mu;
    std::condition_variable cv;
    bool holding = false;
    bool release = false;
    std::thread holder([&] {
      EXPECT_TRUE(store_->Write([&](WriteTransaction& txn) -> Status {
                          {
                            std::unique_lock lock(mu);
                            holding = true;
                            cv.notify_all();
                            cv.wait(lock, [&] { return release; });
                          }
                          return PutOperation("Basic", "holder", "{}")(txn);
                        }).ok());
    });
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return holding; });
    }
    std::vector<Status> results(others);
    Status faulty_result;
    std::vector<std::thread> writers;
    for (int i = 0; i < others; ++i) {
      writers.emplace_back([&, i] { results[i] = store_->Write(PutOperation("Basic", "other-" + std::to_string(i), "{}")); });
    }
    writers.emplace_back([&] { faulty_result = store_->Write(std::move(faulty)); });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let them queue (if not, they form later batches)
    {
      std::lock_guard lock(mu);
      release = true;
    }
    cv.notify_all();
    holder.join();
    for (auto& writer : writers) writer.join();
    return {faulty_result, results};
  }

  FaultVfs& vfs_ = FaultVfs::Instance();
  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<ResourceStore> store_;
};

// The defect: SQLite rolled the whole group back when one operation hit the fault, the next
// operation's SAVEPOINT opened a transaction of its own that RELEASE committed, and every caller
// was told the write failed although some were stored.
TEST_F(StoreFaultsTest, AFaultInOneOperationOfAGroupFailsOnlyThatOperation) {
  for (Fault fault : {Fault::kIoError, Fault::kDiskFull}) {
    ASSERT_TRUE(store_->Write(PutOperation("Basic", "before", "{}")).ok());
    const std::string big = Incompressible(8u << 20);  // spills pages to the WAL mid-transaction
    auto [faulty, others] = RunBatch(
        [&](WriteTransaction& txn) -> Status {
          vfs_.FailWalWrites(fault);
          Status status = PutOperation("Basic", "faulty", big)(txn);
          vfs_.Clear();
          return status;
        },
        6);
    EXPECT_GT(vfs_.TakeInjected(), 0);
    EXPECT_EQ(faulty.code(), fault == Fault::kDiskFull ? StatusCode::kInsufficientStorage : StatusCode::kUnavailable)
        << faulty.ToString();
    for (const Status& other : others) EXPECT_TRUE(other.ok()) << other.ToString();
    Open();  // what is durable, as a restart sees it
    EXPECT_FALSE(Stored("faulty"));
    EXPECT_TRUE(Stored("before"));
    EXPECT_TRUE(Stored("holder"));
    for (int i = 0; i < 6; ++i) EXPECT_TRUE(Stored("other-" + std::to_string(i))) << i;
    ASSERT_TRUE(store_->Write(PutOperation("Basic", "after", "{}")).ok());
  }
}

TEST_F(StoreFaultsTest, ACommitThatFindsTheDiskFullStoresNothingAndSaysSo) {
  vfs_.FailWalWrites(Fault::kDiskFull);
  Status status = store_->Write(PutOperation("Basic", "a", "{}"));
  vfs_.Clear();
  EXPECT_EQ(status.code(), StatusCode::kInsufficientStorage) << status.ToString();
  EXPECT_FALSE(Stored("a"));
  EXPECT_TRUE(store_->Write(PutOperation("Basic", "b", "{}")).ok());  // space again: writes go on
  Open();
  EXPECT_FALSE(Stored("a"));
  EXPECT_TRUE(Stored("b"));
}

TEST_F(StoreFaultsTest, ACommitWhoseSyncFailsHasAnUnknownOutcomeAndStopsWrites) {
  ASSERT_TRUE(store_->Write(PutOperation("Basic", "before", "{}")).ok());
  vfs_.FailWalSyncs();
  Status status = store_->Write(PutOperation("Basic", "a", "{}"));
  vfs_.Clear();
  EXPECT_EQ(status.code(), StatusCode::kOutcomeUnknown) << status.ToString();
  Status next = store_->Write(PutOperation("Basic", "b", "{}"));
  EXPECT_EQ(next.code(), StatusCode::kUnavailable);
  EXPECT_NE(next.message().find("restart"), std::string::npos);
  Open();  // a restart finds out the state and takes writes again
  EXPECT_TRUE(Stored("before"));
  EXPECT_FALSE(Stored("b"));
  EXPECT_TRUE(store_->Write(PutOperation("Basic", "c", "{}")).ok());
}

TEST_F(StoreFaultsTest, AnOperationThrowingAnythingFailsAloneAndTheStoreGoesOn) {
  Status thrown = store_->Write([](WriteTransaction& txn) -> Status {
    (void)PutOperation("Basic", "x", "{}")(txn);
    throw 42;
  });
  EXPECT_EQ(thrown.code(), StatusCode::kInternal);
  EXPECT_FALSE(Stored("x"));
  EXPECT_TRUE(store_->Write(PutOperation("Basic", "y", "{}")).ok());
  EXPECT_TRUE(Stored("y"));
}

TEST_F(StoreFaultsTest, TransactionTimeContinuesFromTheNewestStoredVersion) {
  ASSERT_TRUE(store_->Write(PutOperation("Basic", "a", "{}")).ok());
  const Millis stored = (*store_->ReadCurrent("Basic", "a"))->last_updated;
  clock_.Set(stored - 3'600'000);  // the clock stepped back an hour, then the server restarted
  Open();
  ASSERT_TRUE(store_->Write(PutOperation("Basic", "b", "{}")).ok());
  EXPECT_GE((*store_->ReadCurrent("Basic", "b"))->last_updated, stored);
}

TEST_F(StoreFaultsTest, AClockSteppingBackWhileRunningNeverStampsAnEarlierVersion) {
  ASSERT_TRUE(store_->Write(PutOperation("Basic", "a", "{}")).ok());
  const Millis first = (*store_->ReadCurrent("Basic", "a"))->last_updated;
  clock_.Advance(-60'000);
  ASSERT_TRUE(store_->Write(PutOperation("Basic", "b", "{}")).ok());
  EXPECT_EQ((*store_->ReadCurrent("Basic", "b"))->last_updated, first);
  clock_.Advance(120'000);  // caught up
  ASSERT_TRUE(store_->Write(PutOperation("Basic", "c", "{}")).ok());
  EXPECT_EQ((*store_->ReadCurrent("Basic", "c"))->last_updated, clock_.Now());
}

TEST_F(StoreFaultsTest, AnOperationIsStampedWithOneTime) {
  Millis seen = 0;
  ASSERT_TRUE(store_->Write([&](WriteTransaction& txn) -> Status {
                      seen = txn.Now();
                      clock_.Advance(119);  // time passes while the operation serializes a big body
                      return PutOperation("Basic", "a", "{}")(txn);
                    }).ok());
  EXPECT_EQ((*store_->ReadCurrent("Basic", "a"))->last_updated, seen);
  auto history = store_->History({.type = "Basic", .id = "a"});
  EXPECT_EQ(history->versions[0].last_updated, seen);
}

TEST_F(StoreFaultsTest, ACorruptedBodyIsReportedAsCorruption) {
  ASSERT_TRUE(store_->Write(PutOperation("Basic", "small", R"({"resourceType":"Basic"})")).ok());
  ASSERT_TRUE(store_->Write(PutOperation("Basic", "large", std::string(5000, 'x'))).ok());
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(sqlite::SqliteDatabasePath(dir_.path()).c_str(), &db), SQLITE_OK);
  // Flip one bit in the middle of every stored body, as a bad sector or a stray write would.
  std::vector<std::pair<std::int64_t, std::string>> bodies;
  sqlite3_stmt* select = nullptr;
  sqlite3_prepare_v2(db, "SELECT seq, body FROM resource_version", -1, &select, nullptr);
  while (sqlite3_step(select) == SQLITE_ROW) {
    const char* data = static_cast<const char*>(sqlite3_column_blob(select, 1));
    bodies.emplace_back(sqlite3_column_int64(select, 0), std::string(data, sqlite3_column_bytes(select, 1)));
  }
  sqlite3_finalize(select);
  ASSERT_EQ(bodies.size(), 2u);
  for (auto& [seq, body] : bodies) {
    body[body.size() / 2] = static_cast<char>(body[body.size() / 2] ^ 0x01);
    sqlite3_stmt* update = nullptr;
    sqlite3_prepare_v2(db, "UPDATE resource_version SET body = ? WHERE seq = ?", -1, &update, nullptr);
    sqlite3_bind_blob(update, 1, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(update, 2, seq);
    ASSERT_EQ(sqlite3_step(update), SQLITE_DONE);
    sqlite3_finalize(update);
  }
  sqlite3_close(db);
  Open();
  for (const char* id : {"small", "large"}) {
    auto read = store_->ReadCurrent("Basic", id);
    ASSERT_FALSE(read) << id;
    EXPECT_EQ(read.error().code(), StatusCode::kCorrupt) << read.error().ToString();
  }
}

TEST_F(StoreFaultsTest, RefusesToOpenWhereWalModeCannotBeUsed) {
  store_.reset();
  TempDir other;
  auto store = sqlite::OpenSqliteStore({.data_dir = other.path(), .clock = &clock_, .vfs = ck::testing::kNoSharedMemoryVfs});
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(store.error().message().find("WAL"), std::string::npos);
}

TEST_F(StoreFaultsTest, LongReadsAreStoppedAtTheTimeLimit) {
  ASSERT_TRUE(store_->Write([](WriteTransaction& txn) -> Status {
                      for (int i = 0; i < 20000; ++i) CK_RETURN_IF_ERROR(PutOperation("Basic", std::to_string(i % 2000), "{}")(txn));
                      return Status::Ok();
                    }).ok());
  Open(std::chrono::milliseconds(1));
  auto page = store_->History({.at = TimeRange{clock_.Now() + 1, clock_.Now() + 2}});
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code(), StatusCode::kTooCostly) << page.error().ToString();
  EXPECT_TRUE(Stored("1"));  // the reader is usable again afterwards
}

TEST(SqliteStatusTest, GivesEachKindOfDatabaseErrorItsOwnStatus) {
  struct Case {
    int result_code;
    StatusCode code;
    const char* message_part;
  };
  const Case cases[] = {
      {SQLITE_BUSY, StatusCode::kUnavailable, "busy"},
      {SQLITE_BUSY_SNAPSHOT, StatusCode::kUnavailable, "busy"},
      {SQLITE_LOCKED, StatusCode::kUnavailable, "busy"},
      {SQLITE_READONLY, StatusCode::kUnavailable, "read-only"},
      {SQLITE_IOERR_WRITE, StatusCode::kUnavailable, "read or write"},
      {SQLITE_NOMEM, StatusCode::kUnavailable, "memory"},
      {SQLITE_FULL, StatusCode::kInsufficientStorage, "full"},
      {SQLITE_CORRUPT, StatusCode::kCorrupt, "corrupt"},
      {SQLITE_NOTADB, StatusCode::kCorrupt, "corrupt"},
      {SQLITE_INTERRUPT, StatusCode::kTooCostly, "longer"},
      {SQLITE_CONSTRAINT, StatusCode::kInternal, "database error"},
  };
  for (const Case& c : cases) {
    Status status = sqlite::SqliteStatus(c.result_code, "detail");
    EXPECT_EQ(status.code(), c.code) << c.result_code;
    EXPECT_NE(status.message().find(c.message_part), std::string::npos) << status.message();
    EXPECT_EQ(status.detail(), "detail");
  }
}

}  // namespace
}  // namespace ck::store
