// Every write keeps the search index in step with the current version, in the same transaction:
// a create adds the resource's rows (with _lastUpdated, the transaction time), an update replaces
// them, a delete removes them. Checked in the SQLite file itself.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include "records_fixture.h"

namespace ck::records {
namespace {

class IndexingTest : public RecordsTest {
 protected:
  // The rows of `table` for parameter `code` of the current version of type/id, as "a|b".
  std::vector<std::string> Rows(const std::string& table, const std::string& columns, const std::string& type,
                                const std::string& id, const std::string& code) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(store::sqlite::SqliteDatabasePath(dir_.path()).c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    std::string sql = "SELECT " + columns + " FROM " + table +
                      " x JOIN search_param p ON p.param_id = x.param_id JOIN resource r ON r.rid = x.rid"
                      " JOIN resource_type t ON t.type_id = r.type_id"
                      " WHERE t.name = ? AND r.id = ? AND p.url LIKE ? ORDER BY 1";
    sqlite3_stmt* select = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &select, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    std::string url = "%-" + code;
    sqlite3_bind_text(select, 1, type.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(select, 2, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(select, 3, url.c_str(), -1, SQLITE_TRANSIENT);
    std::vector<std::string> out;
    while (sqlite3_step(select) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(select); ++i) {
        if (i > 0) row += "|";
        row += reinterpret_cast<const char*>(sqlite3_column_text(select, i));
      }
      out.push_back(row);
    }
    sqlite3_finalize(select);
    sqlite3_close(db);
    return out;
  }
  // Rows of any table for any version that is not current: there must be none.
  int StaleRows() {
    sqlite3* db = nullptr;
    sqlite3_open_v2(store::sqlite::SqliteDatabasePath(dir_.path()).c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    int stale = 0;
    for (const char* table : {"search_token", "search_string", "search_date", "search_reference"}) {
      std::string sql = std::string("SELECT count(*) FROM ") + table + " WHERE rid NOT IN (SELECT rid FROM resource WHERE deleted = 0)";
      sqlite3_exec(db, sql.c_str(), [](void* n, int, char** v, char**) { *static_cast<int*>(n) += std::atoi(v[0]); return 0; }, &stale, nullptr);
    }
    sqlite3_close(db);
    return stale;
  }
  void Execute(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(store::sqlite::SqliteDatabasePath(dir_.path()).c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  void Put(const std::string& body) {
    auto resource = service_->Parse(body);
    ASSERT_TRUE(resource) << resource.error().ToString();
    ASSERT_TRUE(service_->UpdateResource(context_, std::move(*resource), std::nullopt));
  }
};

TEST_F(IndexingTest, WritesKeepTheIndexInStepWithTheCurrentVersion) {
  Put(R"({"resourceType":"Patient","id":"p","name":[{"family":"Müller"}],"gender":"female"})");
  EXPECT_EQ(Rows("search_string", "normalized, exact", "Patient", "p", "family"), std::vector<std::string>{"muller|Müller"});
  EXPECT_EQ(Rows("search_token", "code", "Patient", "p", "gender"), std::vector<std::string>{"female"});
  EXPECT_EQ(Rows("search_token", "code", "Patient", "p", "id"), std::vector<std::string>{"p"});
  auto updated = Rows("search_date", "high - low", "Patient", "p", "lastUpdated");
  EXPECT_EQ(updated, std::vector<std::string>{"1"});  // the transaction time, to the millisecond

  Put(R"({"resourceType":"Patient","id":"p","name":[{"family":"Meyer"}]})");
  EXPECT_EQ(Rows("search_string", "normalized", "Patient", "p", "family"), std::vector<std::string>{"meyer"});
  EXPECT_TRUE(Rows("search_token", "code", "Patient", "p", "gender").empty());
  EXPECT_EQ(StaleRows(), 0);

  ASSERT_TRUE(service_->Delete(context_, "Patient", "p", std::nullopt));
  EXPECT_EQ(StaleRows(), 0);
  Put(R"({"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p"}})");
  EXPECT_EQ(Rows("search_reference", "target_type, target_id", "Observation", "o", "subject"), std::vector<std::string>{"Patient|p"});
}

// A database whose resources have no rows (made before the index, or with rows lost) gets them
// back; an interrupted reindex resumes after the last resource done.
TEST_F(IndexingTest, ReindexRebuildsMissingRowsAndResumesWhereItStopped) {
  for (const char* id : {"a", "k", "z"}) {
    Put(std::string(R"({"resourceType":"Patient","id":")") + id + R"(","gender":"male"})");
  }
  Put(R"({"resourceType":"Practitioner","id":"d","gender":"female"})");
  Execute("DELETE FROM search_token");
  ASSERT_TRUE(service_->StartReindex().ok());
  ASSERT_TRUE(service_->CompleteSearchIndex().ok());
  EXPECT_EQ(Rows("search_token", "code", "Patient", "k", "gender"), std::vector<std::string>{"male"});
  EXPECT_EQ(Rows("search_token", "code", "Practitioner", "d", "gender"), std::vector<std::string>{"female"});
  EXPECT_EQ(*store_->ReadMeta("search_reindex"), std::nullopt);

  // Stopped after Patient/k: the next run does Patient/z and the types after Patient only.
  Execute("DELETE FROM search_token; INSERT INTO store_meta VALUES ('search_reindex', 'Patient	k')");
  std::vector<std::string> progress;
  ASSERT_TRUE(service_->CompleteSearchIndex([&](const std::string& type, std::size_t done) {
    progress.push_back(type + " " + std::to_string(done));
  }).ok());
  EXPECT_EQ(progress, (std::vector<std::string>{"Patient 1", "Practitioner 1"}));
  EXPECT_TRUE(Rows("search_token", "code", "Patient", "a", "gender").empty());
  EXPECT_EQ(Rows("search_token", "code", "Patient", "z", "gender"), std::vector<std::string>{"male"});
  EXPECT_EQ(Rows("search_token", "code", "Practitioner", "d", "gender"), std::vector<std::string>{"female"});
}

// A birth date is a whole day in the search_time_zone: in Berlin (CET all of 1970), 1970-05-02
// began at 1970-05-01T23:00Z. Opening the records with another zone places the stored dates again.
TEST_F(IndexingTest, DatesWithoutAZoneArePlacedInTheSearchZoneAndPlacedAgainWhenItChanges) {
  Put(R"({"resourceType":"Patient","id":"p","birthDate":"1970-05-02"})");
  auto found = [&](const std::string& birthdate) {
    search::SearchRequest request{"Patient", {{"birthdate", birthdate}}};
    auto result = service_->Search(context_, request);
    EXPECT_TRUE(result) << result.error().ToString();
    return result->page.versions.size();
  };
  ASSERT_TRUE(service_->CompleteSearchIndex().ok());
  EXPECT_EQ(found("lt1970-05-01T23:30:00Z"), 0u);  // UTC: the day begins at midnight UTC
  auto berlin = search::SearchZone::Named("Europe/Berlin");
  ASSERT_TRUE(berlin);
  service_ = std::make_unique<RecordService>(fhir::Definitions::R4(), *store_, RecordOptions{.search_zone = *berlin});
  ASSERT_TRUE(service_->CompleteSearchIndex().ok());
  EXPECT_EQ(**store_->ReadMeta("search_time_zone"), "Europe/Berlin");
  EXPECT_EQ(*store_->ReadMeta("search_reindex"), std::nullopt);
  EXPECT_EQ(found("lt1970-05-01T23:30:00Z"), 1u);
  EXPECT_EQ(found("lt1970-05-01T22:30:00Z"), 0u);
  EXPECT_EQ(found("1970-05-02"), 1u);
  // A search value without a zone is Berlin wall time too: 23:30 there is 22:30Z, before the day.
  EXPECT_EQ(found("sa1970-05-01T23:30"), 1u);
  EXPECT_EQ(found("sa1970-05-01T23:30:00Z"), 0u);
  service_ = std::make_unique<RecordService>(fhir::Definitions::R4(), *store_);  // back to UTC
  ASSERT_TRUE(service_->CompleteSearchIndex().ok());
  EXPECT_EQ(found("lt1970-05-01T23:30:00Z"), 0u);
}

// A bulk load (import) stages its index rows: they are not searchable until merged, a second
// version replaces its first's staged rows, and rows a crashed load left staged are merged by
// the next start's CompleteSearchIndex.
TEST_F(IndexingTest, ABulkLoadStagesItsRowsUntilTheyAreMerged) {
  service_.reset();
  store_.reset();
  auto bulk = store::sqlite::OpenSqliteStore({.data_dir = dir_.path(), .clock = &clock_, .stage_index = true});
  ASSERT_TRUE(bulk);
  store_ = std::move(*bulk);
  service_ = std::make_unique<RecordService>(fhir::Definitions::R4(), *store_);
  Put(R"({"resourceType":"Patient","id":"a","gender":"male"})");
  Put(R"({"resourceType":"Patient","id":"b","gender":"male"})");
  Put(R"({"resourceType":"Patient","id":"b","gender":"female"})");  // its first version's rows go
  auto males = [&] {
    search::SearchRequest request{"Patient", {{"gender", "male"}}};
    auto found = service_->Search(context_, request);
    EXPECT_TRUE(found) << found.error().ToString();
    std::vector<std::string> ids;
    for (const auto& version : found->page.versions) ids.push_back(version.id);
    return ids;
  };
  EXPECT_TRUE(males().empty());
  EXPECT_TRUE(Rows("search_token", "code", "Patient", "a", "gender").empty());
  ASSERT_TRUE(store_->CompleteIndex().ok());
  EXPECT_EQ(males(), std::vector<std::string>{"a"});
  EXPECT_EQ(Rows("search_token", "code", "Patient", "b", "gender"), std::vector<std::string>{"female"});

  // A load stopped before its merge: the next start merges what it staged.
  Put(R"({"resourceType":"Patient","id":"c","gender":"male"})");
  service_.reset();
  store_.reset();
  auto reopened = store::sqlite::OpenSqliteStore({.data_dir = dir_.path(), .clock = &clock_});
  ASSERT_TRUE(reopened);
  store_ = std::move(*reopened);
  service_ = std::make_unique<RecordService>(fhir::Definitions::R4(), *store_);
  ASSERT_TRUE(service_->CompleteSearchIndex().ok());
  EXPECT_EQ(males(), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(StaleRows(), 0);
}

}  // namespace
}  // namespace ck::records
