// The storage contract, run against each backend (SQLite today).
#include "store/resource_store.h"

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"

namespace ck::store {
namespace {

using ck::testing::FakeClock;
using ck::testing::TempDir;

class ResourceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open(bool bulk_load = false) {
    store_.reset();
    auto store = sqlite::OpenSqliteStore({.data_dir = dir_.path(), .clock = &clock_, .stage_index = bulk_load});
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
  }

  // Appends the next version of (type, id) the way the records layer does.
  Status Put(const std::string& type, const std::string& id, const std::string& body, ChangeKind change = ChangeKind::kUpdate) {
    return store_->Write([&](WriteTransaction& txn) -> Status {
      CK_ASSIGN_OR_RETURN(auto current, txn.Current(type, id));
      StoredVersion v{type, id, current ? current->version + 1 : 1, 0, change, 0, body};
      CK_ASSIGN_OR_RETURN(std::int64_t seq, txn.Append(v));
      (void)seq;
      return Status::Ok();
    });
  }

  // The rows `table` holds, read through a connection of the test's own.
  std::int64_t RowsIn(const char* table) {
    sqlite3* db = nullptr;
    sqlite3_open(sqlite::SqliteDatabasePath(dir_.path()).c_str(), &db);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, (std::string("SELECT count(*) FROM ") + table).c_str(), -1, &stmt, nullptr);
    const std::int64_t rows = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return rows;
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<ResourceStore> store_;
};

TEST_F(ResourceStoreTest, KeepsEveryVersionAndACurrentPointer) {
  ASSERT_TRUE(Put("Patient", "a", R"({"v":1})", ChangeKind::kCreate).ok());
  clock_.Advance(1000);
  ASSERT_TRUE(Put("Patient", "a", R"({"v":2})").ok());
  auto current = store_->ReadCurrent("Patient", "a");
  ASSERT_TRUE(current && *current);
  EXPECT_EQ((*current)->version, 2);
  EXPECT_EQ((*current)->body, R"({"v":2})");
  EXPECT_EQ((*current)->last_updated, clock_.Now());
  auto first = store_->ReadVersion("Patient", "a", 1);
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->body, R"({"v":1})");
  EXPECT_EQ((*first)->change, ChangeKind::kCreate);
  EXPECT_FALSE(*store_->ReadVersion("Patient", "a", 3));
  EXPECT_FALSE(*store_->ReadCurrent("Patient", "b"));
  EXPECT_FALSE(*store_->ReadCurrent("Observation", "a"));
}

TEST_F(ResourceStoreTest, DeletesAreVersionsToo) {
  ASSERT_TRUE(Put("Patient", "a", "{}", ChangeKind::kCreate).ok());
  ASSERT_TRUE(Put("Patient", "a", "", ChangeKind::kDelete).ok());
  auto current = store_->ReadCurrent("Patient", "a");
  ASSERT_TRUE(current && *current);
  EXPECT_TRUE((*current)->deleted());
  EXPECT_EQ((*current)->version, 2);
  EXPECT_EQ((*store_->ReadVersion("Patient", "a", 1))->body, "{}");
}

TEST_F(ResourceStoreTest, AFailedOperationChangesNothing) {
  ASSERT_TRUE(Put("Patient", "a", "one", ChangeKind::kCreate).ok());
  Status failed = store_->Write([](WriteTransaction& txn) -> Status {
    CK_ASSIGN_OR_RETURN(std::int64_t seq, txn.Append({"Patient", "a", 2, 0, ChangeKind::kUpdate, 0, "two"}));
    (void)seq;
    return Status::Conflict("changed my mind");
  });
  EXPECT_EQ(failed.code(), StatusCode::kConflict);
  EXPECT_EQ((*store_->ReadCurrent("Patient", "a"))->version, 1);
  EXPECT_FALSE(*store_->ReadVersion("Patient", "a", 2));
}

// A bulk load runs its groups without a savepoint per operation; one that fails is still alone
// in failing, whichever group it lands in.
TEST_F(ResourceStoreTest, InABulkLoadAFailedOperationChangesNothingAndTheOthersAreStored) {
  Open(/*bulk_load=*/true);
  constexpr int kWrites = 64;
  std::vector<std::thread> threads;
  std::atomic<int> runs_of_the_failing_one{0};
  for (int i = 0; i < kWrites; ++i) {
    threads.emplace_back([&, i] {
      if (i % 16 != 7) {
        EXPECT_TRUE(Put("Observation", std::to_string(i), "{}", ChangeKind::kCreate).ok());
        return;
      }
      Status failed = store_->Write([&](WriteTransaction& txn) -> Status {
        ++runs_of_the_failing_one;
        CK_ASSIGN_OR_RETURN(std::int64_t seq, txn.Append({"Observation", std::to_string(i), 1, 0, ChangeKind::kCreate, 0, "{}"}));
        (void)seq;
        return Status::Conflict("changed my mind");
      });
      EXPECT_EQ(failed.code(), StatusCode::kConflict);
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < kWrites; ++i) {
    auto current = store_->ReadCurrent("Observation", std::to_string(i));
    ASSERT_TRUE(current);
    EXPECT_EQ(current->has_value(), i % 16 != 7) << i;
  }
  EXPECT_GE(runs_of_the_failing_one.load(), kWrites / 16);
}

TEST_F(ResourceStoreTest, SurvivesReopening) {
  std::string big(10000, 'x');  // compressed on disk
  ASSERT_TRUE(Put("Patient", "a", big, ChangeKind::kCreate).ok());
  Open();
  EXPECT_EQ((*store_->ReadCurrent("Patient", "a"))->body, big);
}

TEST_F(ResourceStoreTest, GroupsConcurrentWritesIntoFewerCommits) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        EXPECT_TRUE(Put("Observation", std::to_string(t) + "-" + std::to_string(i), "{}", ChangeKind::kCreate).ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto stats = store_->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->committed_operations, kThreads * kPerThread);
  EXPECT_LE(stats->commits, stats->committed_operations);
  EXPECT_GT(stats->database_bytes, 0);
  auto history = store_->History({.type = "Observation", .count_total = true});
  EXPECT_EQ(history->total, kThreads * kPerThread);
}

// With the current-version cache in front of the database: once a write has returned, every
// read sees it or something newer, and no reader ever sees versions go backwards.
TEST_F(ResourceStoreTest, ReadsNeverGoBackwardsWhileWritesLand) {
  constexpr int kVersions = 300;
  std::atomic<std::int64_t> acknowledged{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      std::int64_t last_seen = 0;
      while (!done) {
        std::int64_t floor = acknowledged;
        auto current = store_->ReadCurrent("Patient", "hot");
        ASSERT_TRUE(current);
        std::int64_t seen = *current ? (*current)->version : 0;
        EXPECT_GE(seen, floor);
        EXPECT_GE(seen, last_seen);
        if (*current) {
          EXPECT_EQ((*current)->body, std::to_string(seen));
        }
        last_seen = seen;
      }
    });
  }
  for (int v = 1; v <= kVersions; ++v) {
    ASSERT_TRUE(Put("Patient", "hot", std::to_string(v), v == 1 ? ChangeKind::kCreate : ChangeKind::kUpdate).ok());
    acknowledged = v;
  }
  done = true;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ((*store_->ReadCurrent("Patient", "hot"))->version, kVersions);
}

TEST_F(ResourceStoreTest, PagesHistoryNewestFirstOverAStableSnapshot) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Put("Patient", "a", std::to_string(i), i == 0 ? ChangeKind::kCreate : ChangeKind::kUpdate).ok());
    clock_.Advance(1000);
  }
  ASSERT_TRUE(Put("Observation", "o", "obs", ChangeKind::kCreate).ok());
  auto page1 = store_->History({.type = "Patient", .id = "a", .count = 2, .count_total = true});
  ASSERT_TRUE(page1);
  EXPECT_EQ(page1->total, 5);
  ASSERT_EQ(page1->versions.size(), 2u);
  EXPECT_EQ(page1->versions[0].version, 5);
  EXPECT_TRUE(page1->older);
  EXPECT_FALSE(page1->newer);
  ASSERT_TRUE(Put("Patient", "a", "later", ChangeKind::kUpdate).ok());  // not in the snapshot
  auto page2 = store_->History({.type = "Patient", .id = "a", .snapshot = page1->snapshot,
                                .before = page1->versions.back().sequence, .count = 2});
  ASSERT_EQ(page2->versions.size(), 2u);
  EXPECT_EQ(page2->versions[0].version, 3);
  EXPECT_FALSE(page2->total);  // only when asked for
  EXPECT_TRUE(page2->older);
  EXPECT_TRUE(page2->newer);
  auto page3 = store_->History({.type = "Patient", .id = "a", .snapshot = page1->snapshot,
                                .before = page2->versions.back().sequence, .count = 2});
  ASSERT_EQ(page3->versions.size(), 1u);
  EXPECT_EQ(page3->versions[0].version, 1);
  EXPECT_FALSE(page3->older);
  // Back from the last page: the same pages, newest first within each.
  auto back = store_->History({.type = "Patient", .id = "a", .snapshot = page1->snapshot,
                               .after = page3->versions.front().sequence, .count = 2});
  ASSERT_EQ(back->versions.size(), 2u);
  EXPECT_EQ(back->versions[0].version, 3);
  EXPECT_EQ(back->versions[1].version, 2);
  EXPECT_TRUE(back->newer);
  auto first = store_->History({.type = "Patient", .id = "a", .snapshot = page1->snapshot,
                                .after = back->versions.front().sequence, .count = 2});
  ASSERT_EQ(first->versions.size(), 2u);
  EXPECT_EQ(first->versions[0].version, 5);
  EXPECT_FALSE(first->newer);
  auto system = store_->History({.count_total = true});
  EXPECT_EQ(system->total, 7);
  EXPECT_EQ(system->versions[0].type, "Patient");
  EXPECT_EQ(system->versions[1].type, "Observation");
  auto type = store_->History({.type = "Patient", .before = system->versions[0].sequence, .count = 10});
  ASSERT_EQ(type->versions.size(), 5u);  // the later update is the cursor itself
  EXPECT_EQ(type->versions[0].version, 5);
  EXPECT_FALSE(type->older);
}

// A type's history page is one range of an index, not a scan of every version.
TEST_F(ResourceStoreTest, ATypesHistoryPageReadsItsTypesIndex) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(sqlite::SqliteDatabasePath(dir_.path()).c_str(), &db), SQLITE_OK);
  sqlite3_stmt* plan = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT seq FROM resource_version v WHERE v.seq <= 100 AND v.seq >= 0 "
                                   "AND v.type_id = 1 AND v.seq < 50 ORDER BY v.seq DESC LIMIT 51", -1, &plan, nullptr), SQLITE_OK);
  std::string steps;
  while (sqlite3_step(plan) == SQLITE_ROW) steps += std::string(reinterpret_cast<const char*>(sqlite3_column_text(plan, 3))) + "\n";
  sqlite3_finalize(plan);
  sqlite3_close(db);
  EXPECT_NE(steps.find("resource_version_by_type"), std::string::npos) << steps;
  EXPECT_EQ(steps.find("TEMP B-TREE"), std::string::npos) << steps;  // no sort
}

TEST_F(ResourceStoreTest, FiltersHistoryBySinceAndAt) {
  const Millis t0 = clock_.Now();
  ASSERT_TRUE(Put("Patient", "a", "v1", ChangeKind::kCreate).ok());  // t0
  clock_.Advance(10'000);
  ASSERT_TRUE(Put("Patient", "a", "v2").ok());  // t0+10s
  clock_.Advance(10'000);
  ASSERT_TRUE(Put("Patient", "a", "v3").ok());  // t0+20s
  auto since = store_->History({.type = "Patient", .since = t0 + 10'000, .count_total = true});
  EXPECT_EQ(since->total, 2);
  // At t0+15s, version 2 was current.
  auto at = store_->History({.type = "Patient", .at = TimeRange{t0 + 15'000, t0 + 16'000}});
  ASSERT_EQ(at->versions.size(), 1u);
  EXPECT_EQ(at->versions[0].version, 2);
  // Over [t0+5s, t0+25s): v1 (current at the start), v2 and v3.
  auto period = store_->History({.type = "Patient", .at = TimeRange{t0 + 5'000, t0 + 25'000}, .count_total = true});
  EXPECT_EQ(period->total, 3);
}

TEST_F(ResourceStoreTest, OneStoreAtATimePerDataFolder) {
  auto second = sqlite::OpenSqliteStore({.data_dir = dir_.path(), .clock = &clock_});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.error().message().find("another Chartkeeper process"), std::string::npos);
  store_.reset();
  EXPECT_TRUE(sqlite::OpenSqliteStore({.data_dir = dir_.path(), .clock = &clock_}));
}

// The folder itself is locked: earlier versions locked a file in it, which could be deleted
// to let a second process in.
TEST_F(ResourceStoreTest, NoFileCanBeDeletedToGetAroundTheLock) {
  std::filesystem::remove(dir_.path() / "chartkeeper.lock");
  auto second = sqlite::OpenSqliteStore({.data_dir = dir_.path(), .clock = &clock_});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), StatusCode::kUnavailable);
}

// A version a lenient validation policy let in carries its problems; the next version, which
// met every rule, carries none.
TEST_F(ResourceStoreTest, KeepsTheIssuesRecordedBesideAVersion) {
  const std::string outcome = R"({"resourceType":"OperationOutcome","issue":[{"severity":"error"}]})";
  ASSERT_TRUE(store_->Write([&](WriteTransaction& txn) -> Status {
    StoredVersion v{"Patient", "a", 1, 0, ChangeKind::kCreate, 0, R"({"v":1})"};
    v.issues = outcome;
    CK_ASSIGN_OR_RETURN(std::int64_t seq, txn.Append(v));
    (void)seq;
    return Status::Ok();
  }).ok());
  EXPECT_EQ((*store_->ReadCurrent("Patient", "a"))->issues, outcome);
  ASSERT_TRUE(Put("Patient", "a", R"({"v":2})").ok());
  Open();  // past the cache, from the database
  EXPECT_EQ((*store_->ReadVersion("Patient", "a", 1))->issues, outcome);
  EXPECT_EQ((*store_->ReadCurrent("Patient", "a"))->issues, "");
  auto history = store_->History({"Patient", "a"});
  ASSERT_TRUE(history);
  ASSERT_EQ(history->versions.size(), 2u);
  EXPECT_EQ(history->versions[0].issues, "");
  EXPECT_EQ(history->versions[1].issues, outcome);
  auto scan = store_->ScanCurrent("Patient", "", 10);
  ASSERT_TRUE(scan && scan->size() == 1);
  EXPECT_EQ((*scan)[0].issues, "");
}

// A data folder written by the foundation release (schema 1) is brought up to date on open, its
// versions intact.
TEST_F(ResourceStoreTest, MigratesADatabaseOfSchemaOne) {
  ASSERT_TRUE(Put("Patient", "a", R"({"v":1})", ChangeKind::kCreate).ok());
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(sqlite::SqliteDatabasePath(dir_.path()).c_str(), &db), SQLITE_OK);
  // What schemas 2 to 10 added goes: the database is as schema 1 made it (the full-text table
  // takes its own shadow tables with it).
  std::string downgrade =
      "DROP TABLE audit_record; DROP TABLE audit_link_run; DROP TABLE audit_link_recent; DROP TABLE audit_checkpoint; DROP TABLE audit_head; "
      "DROP TABLE version_issues; DROP TABLE store_meta; DROP INDEX resource_by_rid; ALTER TABLE resource DROP COLUMN rid; "
      "DROP TABLE contained_resource; "
      "DROP INDEX resource_version_by_type; "
      "PRAGMA user_version = 1;";
  sqlite3_exec(
      db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'search\\_%' ESCAPE '\\' AND name NOT LIKE 'search\\_fulltext\\_%' ESCAPE '\\'",
      [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) += std::string("DROP TABLE ") + values[0] + ";";
        return 0;
      },
      &downgrade, nullptr);
  ASSERT_EQ(sqlite3_exec(db, downgrade.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << downgrade;
  sqlite3_close(db);
  Open();
  EXPECT_EQ((*store_->ReadCurrent("Patient", "a"))->body, R"({"v":1})");
  // Its resources have no search index rows yet: the records layer is told to build them.
  EXPECT_EQ(*store_->ReadMeta("search_reindex"), std::optional<std::string>(""));
  // Each resource is numbered by its first version (schema 4's rid).
  ASSERT_EQ(sqlite3_open(sqlite::SqliteDatabasePath(dir_.path()).c_str(), &db), SQLITE_OK);
  std::string numbered;
  sqlite3_exec(
      db, "SELECT r.rid = v.seq FROM resource r JOIN resource_version v ON v.type_id = r.type_id AND v.id = r.id AND v.version = 1",
      [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) += values[0];
        return 0;
      },
      &numbered, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(numbered, "1");
  ASSERT_TRUE(store_->Write([&](WriteTransaction& txn) -> Status {
    StoredVersion v{"Patient", "a", 2, 0, ChangeKind::kUpdate, 0, R"({"v":2})"};
    v.issues = "flaws";
    CK_ASSIGN_OR_RETURN(std::int64_t seq, txn.Append(v));
    (void)seq;
    return Status::Ok();
  }).ok());
  Open();
  EXPECT_EQ((*store_->ReadCurrent("Patient", "a"))->issues, "flaws");
}

TEST_F(ResourceStoreTest, ANewDatabaseNeedsNoReindexAndKeepsStateValues) {
  EXPECT_EQ(*store_->ReadMeta("search_reindex"), std::nullopt);
  ASSERT_TRUE(store_->Write([](WriteTransaction& txn) { return txn.WriteMeta("k", "v1"); }).ok());
  ASSERT_TRUE(store_->Write([](WriteTransaction& txn) { return txn.WriteMeta("k", "v2"); }).ok());
  EXPECT_EQ(*store_->ReadMeta("k"), std::optional<std::string>("v2"));
  ASSERT_TRUE(store_->Write([](WriteTransaction& txn) { return txn.WriteMeta("k", std::nullopt); }).ok());
  EXPECT_EQ(*store_->ReadMeta("k"), std::nullopt);
}

TEST_F(ResourceStoreTest, ListsStateValuesByPrefixAndReadsThemInsideAWrite) {
  ASSERT_TRUE(store_->Write([](WriteTransaction& txn) -> Status {
    for (const char* key : {"a/1", "a/2", "a0", "a", "b/1", "a/\xff"}) CK_RETURN_IF_ERROR(txn.WriteMeta(key, std::string("v") + key));
    return Status::Ok();
  }).ok());
  auto listed = store_->ListMeta("a/", 100);
  ASSERT_TRUE(listed);
  std::vector<std::string> keys;
  for (const auto& [key, value] : *listed) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"a/1", "a/2", "a/\xff"}));
  EXPECT_EQ((*store_->ListMeta("a/", 1)).size(), 1u);
  EXPECT_EQ((*store_->ListMeta("", 100)).size(), 6u);

  // A write sees its own changes and the committed state.
  ASSERT_TRUE(store_->Write([](WriteTransaction& txn) -> Status {
    CK_ASSIGN_OR_RETURN(std::optional<std::string> before, txn.ReadMeta("a/1"));
    if (before != std::optional<std::string>("va/1")) return Status::Internal("committed value not seen");
    CK_RETURN_IF_ERROR(txn.WriteMeta("a/1", "changed"));
    CK_ASSIGN_OR_RETURN(std::optional<std::string> after, txn.ReadMeta("a/1"));
    if (after != std::optional<std::string>("changed")) return Status::Internal("own write not seen");
    CK_ASSIGN_OR_RETURN(std::optional<std::string> absent, txn.ReadMeta("none"));
    return absent ? Status::Internal("absent key found") : Status::Ok();
  }).ok());
}

// A record with more links than one step moves (a page of $everything names every resource it
// returned) moves alone, whole, and stays findable.
TEST_F(ResourceStoreTest, ARecordWithMoreLinksThanAStepMovesAloneAndWhole) {
  ASSERT_TRUE(store_->Write([&](WriteTransaction& txn) -> Status {
    AuditLinks links;
    for (int i = 0; i < 5000; ++i) links.entities.push_back("Observation/o" + std::to_string(i));
    auto appended = txn.AppendAudit(R"({"n":"big"})", links);
    return appended ? Status::Ok() : appended.error();
  }).ok());
  for (int first = 0; first < 4500; first += 500) {  // records 2 to 4,501: one patient row each
    ASSERT_TRUE(store_->Write([&](WriteTransaction& txn) -> Status {
      for (int i = first; i < first + 500; ++i) {
        auto appended = txn.AppendAudit("{}", AuditLinks{{"p"}, {}, {}});
        if (!appended) return appended.error();
      }
      return Status::Ok();
    }).ok());
  }
  // The last commit brought 4,501 records waiting: its step is the first record's 5,000 rows.
  EXPECT_EQ(RowsIn("audit_link_run"), 5000);
  EXPECT_EQ(RowsIn("audit_link_recent"), 4500);
  auto found = store_->SearchAudit({.entities = {"Observation/o4999"}});
  ASSERT_TRUE(found && found->size() == 1);
  EXPECT_EQ((*found)[0].sequence, 1);
}

// The write-ahead log is checkpointed by a thread of its own (store/sqlite/wal_checkpointer.h),
// not by the commit that grows it past 1,000 pages, and under steady commits it still starts over
// from its beginning (the writer copies the frames added during the thread's copy), so its file
// stays a few thousand pages long; what was copied reads back after a reopen.
TEST_F(ResourceStoreTest, CheckpointsTheWriteAheadLogOffTheWriterThreadAndKeepsItShort) {
  constexpr int kBinaries = 3000;  // about 2 pages each, one commit each: some 6,000 pages in all
  std::mt19937 random(7);
  std::vector<std::string> bodies;
  std::uintmax_t written = 0;
  for (int i = 0; i < kBinaries; ++i) {
    std::string hex;
    for (int k = 0; k < 16384; ++k) hex += "0123456789abcdef"[random() % 16];
    bodies.push_back(R"({"n":")" + hex + R"("})");
    written += bodies.back().size() / 2;  // what zstd keeps of hex digits
    ASSERT_TRUE(Put("Binary", "b" + std::to_string(i), bodies.back(), ChangeKind::kCreate).ok());
  }
  EXPECT_GE(store_->Stats()->wal_checkpoints, 1);
  const std::uintmax_t log = std::filesystem::file_size(sqlite::SqliteDatabasePath(dir_.path()).string() + "-wal");
  EXPECT_LT(log, written / 2) << "the log did not start over: " << log << " bytes after " << written << " written";
  Open();
  for (int i = 0; i < kBinaries; ++i) {
    auto read = store_->ReadCurrent("Binary", "b" + std::to_string(i));
    ASSERT_TRUE(read && *read) << i;
    EXPECT_EQ((*read)->body, bodies[i]) << i;
  }
}

// The trail's links (patient, agent, entity) wait in record order and move in runs
// (schema_v12.sql), the oldest records' up to 4,096 rows at a time once 4,096 records wait, so
// that no one commit carries a large move; a search sees every record either way, in order.
TEST_F(ResourceStoreTest, FindsAuditRecordsByLinkBeforeAndAfterTheirLinksMove) {
  constexpr int kRecords = 5000;  // more than one group moves, some stay recent
  for (int first = 0; first < kRecords; first += 250) {
    ASSERT_TRUE(store_->Write([&](WriteTransaction& txn) -> Status {
      for (int i = first; i < first + 250; ++i) {
        AuditLinks links{{"p" + std::to_string(i % 3)}, {"alice"}, {"Observation/o" + std::to_string(i)}};
        CK_ASSIGN_OR_RETURN(std::int64_t seq, txn.AppendAudit("{\"n\":" + std::to_string(i) + "}", links));
        (void)seq;
      }
      return Status::Ok();
    }).ok());
  }
  // Commits of 250 records of 3 rows: the 17th reaches 4,250 waiting and moves the first 1,365
  // (4,095 rows; the 1,366th's rows would pass 4,096); then fewer than 4,096 wait.
  EXPECT_EQ(RowsIn("audit_link_run"), 3 * 1365);
  EXPECT_EQ(RowsIn("audit_link_recent"), 3 * (kRecords - 1365));
  EXPECT_EQ(RowsIn("audit_link_run") + RowsIn("audit_link_recent"), 3 * kRecords);

  auto found = store_->SearchAudit({.patients = {"p1"}, .count = kRecords});
  ASSERT_TRUE(found) << found.error().ToString();
  ASSERT_EQ(found->size(), 1667u);  // 1, 4, ..., 4999
  for (std::size_t i = 0; i < found->size(); ++i) {  // newest first
    EXPECT_EQ((*found)[i].content, "{\"n\":" + std::to_string(4999 - 3 * static_cast<int>(i)) + "}") << i;
  }
  for (int n : {7, 4999}) {  // one moved, one recent
    auto one = store_->SearchAudit({.patients = {"p" + std::to_string(n % 3)}, .entities = {"Observation/o" + std::to_string(n)}});
    ASSERT_TRUE(one && one->size() == 1) << n;
    EXPECT_EQ((*one)[0].sequence, n + 1);
  }
  auto page = store_->SearchAudit({.agents = {"alice"}, .before = 4200, .count = 200});
  ASSERT_TRUE(page && page->size() == 200);
  EXPECT_EQ(page->front().sequence, 4199);  // across the boundary between the two tables
  EXPECT_EQ(page->back().sequence, 4000);
}

// A trail of schema 11 kept its moved links in audit_link, keyed by value; opening it turns
// them into runs (schema_v12.sql), and every record is found as before, with the new records.
TEST_F(ResourceStoreTest, MigratesTheTrailsLinksOfSchemaElevenIntoRuns) {
  auto append = [&](int first, int last) {
    return store_->Write([&](WriteTransaction& txn) -> Status {
      for (int i = first; i < last; ++i) {
        auto appended = txn.AppendAudit("{\"n\":" + std::to_string(i) + "}", AuditLinks{{"p" + std::to_string(i % 2)}, {}, {}});
        if (!appended) return appended.error();
      }
      return Status::Ok();
    });
  };
  ASSERT_TRUE(append(0, 9000).ok());  // one move of 4,096 rows; 4,904 wait
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(sqlite::SqliteDatabasePath(dir_.path()).c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE audit_link (kind INTEGER NOT NULL, value TEXT NOT NULL, seq INTEGER NOT NULL, "
                         "PRIMARY KEY (kind, value, seq)) WITHOUT ROWID; "
                         "INSERT INTO audit_link SELECT kind, value, seq FROM audit_link_run; DROP TABLE audit_link_run; "
                         "PRAGMA user_version = 11;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  Open();
  ASSERT_TRUE(append(9000, 10000).ok());
  auto found = store_->SearchAudit({.patients = {"p1"}, .count = 10000});
  ASSERT_TRUE(found) << found.error().ToString();
  ASSERT_EQ(found->size(), 5000u);
  for (std::size_t i = 0; i < found->size(); ++i) {  // newest first: 9999, 9997, ..., 1
    EXPECT_EQ((*found)[i].content, "{\"n\":" + std::to_string(9999 - 2 * static_cast<int>(i)) + "}") << i;
  }
}

TEST_F(ResourceStoreTest, RefusesADatabaseFromANewerSchema) {
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(sqlite::SqliteDatabasePath(dir_.path()).c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto store = sqlite::OpenSqliteStore({.data_dir = dir_.path(), .clock = &clock_});
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message().find("newer"), std::string::npos);
}

}  // namespace
}  // namespace ck::store
