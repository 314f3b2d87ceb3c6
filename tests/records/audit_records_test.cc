// Every interaction of the records service leaves exactly the audit record it should: writes in
// their own transaction, reads, searches, history, refusals and failures as records of their
// own; a record the trail cannot take fails the interaction and changes nothing.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <future>

#include "audit/audit_entry.h"
#include "audit/audit_trail.h"
#include "audit/pending_records.h"
#include "fhir/resource.h"
#include "records/record_service.h"
#include "store/sqlite/sqlite_store.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"

namespace ck::records {
namespace {

class AuditRecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::sqlite::OpenSqliteStore({.data_dir = dir_.path(), .clock = &clock_});
    ASSERT_TRUE(store);
    store_ = std::move(*store);
    trail_ = std::make_unique<audit::AuditTrail>(fhir::Definitions::R4(), *store_);
    service_ = std::make_unique<RecordService>(fhir::Definitions::R4(), *store_, RecordOptions{.audit_trail = trail_.get()});
    context_.user = "alice";
    context_.client = "chart-app";
    context_.roles = {"clinician"};
    context_.address = "192.0.2.7";
    context_.purpose = "TREAT";
  }

  // The audit entries recorded since the last call.
  std::vector<audit::AuditEntry> NewEntries() {
    auto rows = store_->ReadAudit(next_, 1000);
    EXPECT_TRUE(rows);
    std::vector<audit::AuditEntry> out;
    for (const store::AuditRecord& row : *rows) {
      auto entry = audit::ParseAuditContent(row.content);
      EXPECT_TRUE(entry);
      out.push_back(*entry);
      next_ = row.sequence + 1;
    }
    return out;
  }

  void PutPatientAndObservation() {
    ASSERT_TRUE(service_->Update(context_, "Patient", "p1", R"({"resourceType":"Patient","id":"p1"})", std::nullopt));
    ASSERT_TRUE(service_->Update(context_, "Observation", "o1",
                                 R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"weight"},)"
                                 R"("subject":{"reference":"Patient/p1"}})",
                                 std::nullopt));
    NewEntries();
  }

  ck::testing::TempDir dir_;
  ck::testing::FakeClock clock_;
  std::unique_ptr<store::ResourceStore> store_;
  std::unique_ptr<audit::AuditTrail> trail_;
  std::unique_ptr<RecordService> service_;
  RequestContext context_{"rest", "alice", "req-1"};
  std::int64_t next_ = 1;
};

TEST_F(AuditRecordsTest, AWriteIsRecordedWithWhoWhatWhenAndWhosePatient) {
  ASSERT_TRUE(service_->Update(context_, "Patient", "p1", R"({"resourceType":"Patient","id":"p1"})", std::nullopt));
  auto created = service_->Create(context_, "Observation",
                                  R"({"resourceType":"Observation","status":"final","code":{"text":"weight"},)"
                                  R"("subject":{"reference":"Patient/p1"}})");
  ASSERT_TRUE(created);
  auto entries = NewEntries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].subtype, "update");  // an update that creates is still the update interaction
  EXPECT_EQ(entries[0].action, 'U');
  EXPECT_EQ(entries[0].entities, std::vector<std::string>{"Patient/p1/_history/1"});
  EXPECT_EQ(entries[0].patients, std::vector<std::string>{"p1"});
  const audit::AuditEntry& create = entries[1];
  EXPECT_EQ(create.type, "rest");
  EXPECT_EQ(create.subtype, "create");
  EXPECT_EQ(create.action, 'C');
  EXPECT_EQ(create.outcome, 0);
  EXPECT_EQ(create.door, "rest");
  EXPECT_EQ(create.user, "alice");
  EXPECT_EQ(create.client, "chart-app");
  EXPECT_EQ(create.roles, std::vector<std::string>{"clinician"});
  EXPECT_EQ(create.address, "192.0.2.7");
  EXPECT_EQ(create.request, "req-1");
  EXPECT_EQ(create.purpose, "TREAT");
  EXPECT_EQ(create.entities, std::vector<std::string>{"Observation/" + created->id + "/_history/1"});
  EXPECT_EQ(create.patients, std::vector<std::string>{"p1"});
  // The record's time is the version's.
  auto rows = store_->ReadAudit(2, 1);
  EXPECT_EQ(rows->front().time, created->last_updated);
}

TEST_F(AuditRecordsTest, ReadsSearchesAndHistoryNameThePatientsWhoseDataWasReturned) {
  PutPatientAndObservation();
  ASSERT_TRUE(service_->Read(context_, "Observation", "o1"));
  ASSERT_TRUE(service_->ReadVersion(context_, "Patient", "p1", 1));
  ASSERT_TRUE(service_->Search(context_, {"Observation", {{"code:text", "weight"}}}));
  ASSERT_TRUE(service_->History(context_, {.type = "Observation", .id = "o1"}));
  auto entries = NewEntries();
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].subtype, "read");
  EXPECT_EQ(entries[0].entities, std::vector<std::string>{"Observation/o1/_history/1"});
  EXPECT_EQ(entries[0].patients, std::vector<std::string>{"p1"});
  EXPECT_EQ(entries[1].subtype, "vread");
  EXPECT_EQ(entries[1].patients, std::vector<std::string>{"p1"});
  EXPECT_EQ(entries[2].subtype, "search-type");
  EXPECT_EQ(entries[2].action, 'E');
  EXPECT_EQ(entries[2].query, "Observation?code%3Atext=weight");
  EXPECT_EQ(entries[2].patients, std::vector<std::string>{"p1"});
  EXPECT_EQ(entries[3].subtype, "history-instance");
  EXPECT_EQ(entries[3].patients, std::vector<std::string>{"p1"});
  // A search that returns nothing concerns no patient.
  ASSERT_TRUE(service_->Search(context_, {"Observation", {{"code:text", "height"}}}));
  EXPECT_TRUE(NewEntries().at(0).patients.empty());
}

// Records handed to the writer (a front door's pending records) name the patients of the
// version returned: remembered from the first record of that version, looked up again once the
// resource has a new version, here one that moved it to another patient.
TEST_F(AuditRecordsTest, ARecordNamesThePatientsOfTheVersionReturnedAlsoAfterTheResourceMoves) {
  PutPatientAndObservation();
  ASSERT_TRUE(service_->Update(context_, "Patient", "p2", R"({"resourceType":"Patient","id":"p2"})", std::nullopt));
  auto read_and_wait = [&] {
    RequestContext context = context_;
    context.audits = audit::PendingRecords::Make();
    EXPECT_TRUE(service_->Read(context, "Observation", "o1"));
    std::promise<Status> durable;
    context.audits->WhenDurable([&](Status status) { durable.set_value(std::move(status)); });
    EXPECT_TRUE(durable.get_future().get().ok());
  };
  NewEntries();
  read_and_wait();
  read_and_wait();
  ASSERT_TRUE(service_->Update(context_, "Observation", "o1",
                               R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"weight"},)"
                               R"("subject":{"reference":"Patient/p2"}})",
                               std::nullopt));
  read_and_wait();
  auto entries = NewEntries();
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].patients, std::vector<std::string>{"p1"});
  EXPECT_EQ(entries[1].patients, std::vector<std::string>{"p1"});
  EXPECT_EQ(entries[2].subtype, "update");
  EXPECT_EQ(entries[3].entities, std::vector<std::string>{"Observation/o1/_history/2"});
  EXPECT_EQ(entries[3].patients, std::vector<std::string>{"p2"});
}

TEST_F(AuditRecordsTest, RefusalsAndFailuresAreRecordedWithTheirOutcome) {
  PutPatientAndObservation();
  EXPECT_FALSE(service_->Read(context_, "Observation", "nobody"));
  EXPECT_FALSE(service_->Create(context_, "Observation", R"({"resourceType":"Observation"})"));  // invalid: no status, code
  EXPECT_FALSE(service_->Update(context_, "Patient", "p1", R"({"resourceType":"Patient","id":"p1"})", 9));  // stale If-Match
  auto entries = NewEntries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].subtype, "read");
  EXPECT_EQ(entries[0].outcome, 4);
  EXPECT_EQ(entries[0].entities, std::vector<std::string>{"Observation/nobody"});
  EXPECT_NE(entries[0].detail.find("not known"), std::string::npos);
  EXPECT_EQ(entries[1].subtype, "create");
  EXPECT_EQ(entries[1].outcome, 4);
  EXPECT_EQ(entries[2].subtype, "update");
  EXPECT_EQ(entries[2].outcome, 4);
  EXPECT_EQ(entries[2].entities, std::vector<std::string>{"Patient/p1"});
  EXPECT_EQ(service_->Read(context_, "Patient", "p1")->version, 1);
}

TEST_F(AuditRecordsTest, DeletesPatchesAndTransactionsEachLeaveTheirRecord) {
  PutPatientAndObservation();
  ASSERT_TRUE(service_->Patch(context_, "Observation", "o1",
                              {PatchFormat::kJsonPatch, R"([{"op":"replace","path":"/status","value":"amended"}])"}, std::nullopt));
  ASSERT_TRUE(service_->Delete(context_, "Observation", "o1", std::nullopt));
  auto entries = NewEntries();
  ASSERT_EQ(entries.size(), 2u);  // the patch's own read of the resource is part of the patch
  EXPECT_EQ(entries[0].subtype, "patch");
  EXPECT_EQ(entries[0].entities, std::vector<std::string>{"Observation/o1/_history/2"});
  EXPECT_EQ(entries[1].subtype, "delete");
  EXPECT_EQ(entries[1].action, 'D');
  EXPECT_EQ(entries[1].entities, std::vector<std::string>{"Observation/o1/_history/3"});
  EXPECT_EQ(entries[1].patients, std::vector<std::string>{"p1"});  // read before the delete took the index rows

  std::vector<TransactionWrite> writes;
  auto parsed = service_->Parse(R"({"resourceType":"Patient","id":"p2"})");
  ASSERT_TRUE(parsed);
  writes.push_back({TransactionWrite::Kind::kUpdate, "", "", std::move(*parsed)});
  writes.push_back({TransactionWrite::Kind::kDelete, "Patient", "p1"});
  ASSERT_TRUE(service_->Transaction(context_, std::move(writes)));
  entries = NewEntries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].subtype, "update");
  EXPECT_EQ(entries[1].subtype, "delete");
  EXPECT_EQ(entries[2].subtype, "transaction");
  EXPECT_EQ(entries[2].action, 'E');
}

TEST_F(AuditRecordsTest, TheTrailCannotBeWrittenThroughTheRecordsService) {
  auto refused = service_->Create(context_, "AuditEvent", R"({"resourceType":"AuditEvent"})");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kMethodNotAllowed);
  auto entries = NewEntries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].subtype, "create");
  EXPECT_EQ(entries[0].outcome, 4);
}

TEST_F(AuditRecordsTest, AnAuditThatCannotBeWrittenFailsTheInteractionAndChangesNothing) {
  PutPatientAndObservation();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_.path() / "chartkeeper.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TRIGGER audit_read_only BEFORE INSERT ON audit_record BEGIN SELECT RAISE(ABORT, 'read-only'); END;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto write = service_->Update(context_, "Patient", "p1", R"({"resourceType":"Patient","id":"p1","active":true})", std::nullopt);
  EXPECT_FALSE(write);
  auto read = service_->Read(context_, "Observation", "o1");
  EXPECT_FALSE(read);
  auto search = service_->Search(context_, {"Observation", {}});
  EXPECT_FALSE(search);
  auto version = store_->ReadCurrent("Patient", "p1");
  ASSERT_TRUE(version && *version);
  EXPECT_EQ((*version)->version, 1);
}

TEST_F(AuditRecordsTest, EveryRecordIsAValidR4AuditEvent) {
  PutPatientAndObservation();
  ASSERT_TRUE(service_->Read(context_, "Observation", "o1"));
  ASSERT_TRUE(service_->Search(context_, {"Observation", {{"subject", "Patient/p1"}}}));
  context_.purpose = "ETREAT";
  context_.reason = "unconscious patient in the emergency room";
  EXPECT_FALSE(service_->Read(context_, "Observation", "gone"));
  RequestContext anonymous{"cli-import", "import", ""};
  ASSERT_TRUE(service_->Update(anonymous, "Patient", "p3", R"({"resourceType":"Patient","id":"p3"})", std::nullopt));
  auto rows = store_->ReadAudit(1, 100);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 6u);
  for (const store::AuditRecord& row : *rows) {
    auto json = audit::AuditEventJson(row);
    ASSERT_TRUE(json);
    auto resource = service_->Parse(*json);
    ASSERT_TRUE(resource) << resource.error().ToString() << "\n" << *json;
    for (const Issue& issue : service_->Validate(*resource, false)) {
      ADD_FAILURE() << "record " << row.sequence << ": " << issue.message << " at " << issue.expression << "\n" << *json;
    }
  }
}

}  // namespace
}  // namespace ck::records
