// Custom search parameters (records/search_parameters.h) over a real SQLite store, their jobs
// run in the test's thread (RunQueued): an active SearchParameter checked on write (422 naming
// the problem; a draft stored unchecked; a copy of an R4 parameter stored, not in force), pending until its reindex is done (searches say so), then searchable with the values
// of resources stored before it and after; a new expression reindexed; retired and deleted ones
// out of force with their rows removed; a job's state kept across a reopen; a reindex of types.
#include "records/search_parameters.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "records_fixture.h"

namespace ck::records {
namespace {

constexpr char kRaceUrl[] = "http://example.org/SearchParameter/race";

std::string RaceParameter(const std::string& expression, const std::string& status = "active", const std::string& code = "race") {
  return R"({"resourceType":"SearchParameter","id":"race","url":")" + std::string(kRaceUrl) +
         R"(","name":"race","status":")" + status + R"(","description":"US Core race, OMB category","code":")" + code +
         R"(","base":["Patient"],"type":"token","expression":")" + expression + R"("})";
}

constexpr char kOmbRace[] =
    "Patient.extension.where(url='http://hl7.org/fhir/us/core/StructureDefinition/us-core-race').extension.where(url='ombCategory').value";
constexpr char kOmbEthnicity[] =
    "Patient.extension.where(url='http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity').extension.where(url='ombCategory').value";

std::string PatientWith(const std::string& id, const std::string& race, const std::string& ethnicity) {
  auto omb = [](const std::string& kind, const std::string& code) {
    return R"({"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-)" + kind +
           R"(","extension":[{"url":"ombCategory","valueCoding":{"system":"urn:oid:2.16.840.1.113883.6.238","code":")" + code + R"("}}]})";
  };
  return R"({"resourceType":"Patient","id":")" + id + R"(","extension":[)" + omb("race", race) + "," + omb("ethnicity", ethnicity) + "]}";
}

class SearchParametersTest : public RecordsTest {
 protected:
  void SetUp() override {
    RecordsTest::SetUp();
    // More than a job's page (500): the walk pages.
    for (int i = 0; i < 620; ++i) Put(PatientWith("p" + std::to_string(i), i % 2 == 0 ? "2106-3" : "2054-5", i % 3 == 0 ? "2135-2" : "2186-5"));
  }
  void Put(const std::string& body) {
    const std::string type = body.substr(17, body.find('"', 17) - 17);
    const std::size_t at = body.find(R"("id":")") + 6;
    auto written = service_->Update(context_, type, body.substr(at, body.find('"', at) - at), body, std::nullopt);
    ASSERT_TRUE(written) << written.error().ToString();
  }
  // The ids of every Patient matching `query`, or the error.
  Result<std::set<std::string>> Found(const std::string& name, const std::string& value, bool strict = true) {
    search::SearchRequest request{"Patient", {{name, value}}};
    request.strict = strict;
    request.default_count = 1000;
    CK_ASSIGN_OR_RETURN(RecordService::SearchResult result, service_->Search(context_, request));
    std::set<std::string> ids;
    for (const store::StoredVersion& version : result.page.versions) ids.insert(version.id);
    last_warnings_.clear();
    for (const Issue& issue : result.parsed.ignored) last_warnings_ += issue.message;
    return ids;
  }
  std::set<std::string> Expected(int modulus, int remainder) {
    std::set<std::string> ids;
    for (int i = 0; i < 620; ++i) {
      if (i % modulus == remainder) ids.insert("p" + std::to_string(i));
    }
    return ids;
  }
  SearchParameterRegistry& registry() { return service_->search_parameters(); }
  std::string last_warnings_;
};

TEST_F(SearchParametersTest, AParameterIsPendingUntilItsReindexIsDoneThenFindsEveryResource) {
  Put(RaceParameter(kOmbRace));
  // In force for writes at once, searchable only once reindexed.
  auto pending = Found("race", "2106-3");
  ASSERT_FALSE(pending);
  EXPECT_NE(pending.error().message().find("being indexed"), std::string::npos) << pending.error().ToString();
  ASSERT_TRUE(Found("race", "2106-3", /*strict=*/false));
  EXPECT_NE(last_warnings_.find("being indexed"), std::string::npos) << last_warnings_;
  // Written while pending: indexed by the write itself.
  Put(PatientWith("late", "2106-3", "2135-2"));
  std::vector<ReindexJobStatus> seen;
  ASSERT_TRUE(registry().RunQueued([&](const ReindexJobStatus& job) { seen.push_back(job); }).ok());
  ASSERT_GE(seen.size(), 2u) << "two pages of Patients";
  EXPECT_EQ(seen.back().type, "Patient");
  EXPECT_EQ(seen.back().done, 621u);
  auto found = Found("race", "urn:oid:2.16.840.1.113883.6.238|2106-3");
  ASSERT_TRUE(found) << found.error().ToString();
  std::set<std::string> expected = Expected(2, 0);
  expected.insert("late");
  EXPECT_EQ(*found, expected);
  EXPECT_EQ(*Found("race:not", "2106-3"), Expected(2, 1));
  ASSERT_EQ(registry().Jobs().size(), 1u);
  EXPECT_EQ(registry().Jobs()[0].state, "done");
}

TEST_F(SearchParametersTest, ANewExpressionIsReindexedAndRetiringTakesTheParameterOutOfForce) {
  Put(RaceParameter(kOmbRace));
  ASSERT_TRUE(registry().RunQueued().ok());
  ASSERT_EQ(Found("race", "2106-3")->size(), 310u);
  // The same parameter now indexes ethnicity: pending again, then the old values are gone.
  Put(RaceParameter(kOmbEthnicity));
  EXPECT_FALSE(Found("race", "2135-2"));
  ASSERT_TRUE(registry().RunQueued().ok());
  EXPECT_EQ(*Found("race", "2135-2"), Expected(3, 0));
  EXPECT_TRUE(Found("race", "2106-3")->empty());
  // Retired: unknown to searches at once; its rows are removed by a job.
  Put(RaceParameter(kOmbEthnicity, "retired"));
  auto retired = Found("race", "2135-2");
  ASSERT_FALSE(retired);
  EXPECT_EQ(retired.error().code(), StatusCode::kInvalid);
  ASSERT_TRUE(registry().RunQueued().ok());
  EXPECT_EQ(registry().Jobs().back().what, std::string("removal of ") + kRaceUrl);
  EXPECT_EQ(registry().Jobs().back().state, "done");
  // Active again: every resource indexed again before it is searchable.
  Put(RaceParameter(kOmbRace));
  ASSERT_TRUE(registry().RunQueued().ok());
  EXPECT_EQ(*Found("race", "2106-3"), Expected(2, 0));
  ASSERT_TRUE(service_->Delete(context_, "SearchParameter", "race", std::nullopt));
  EXPECT_FALSE(Found("race", "2106-3"));
}

TEST_F(SearchParametersTest, ParametersThatCannotBeIndexedAreRefusedNamingTheProblem) {
  struct Case {
    std::string body;
    std::string says;
  };
  const Case cases[] = {
      {RaceParameter("Patient.nonsense.where("), "expression"},
      {RaceParameter("Patient.nosuchelement"), "nosuchelement"},
      {RaceParameter(kOmbRace, "active", "_race"), "SearchParameter.code"},
      {R"({"resourceType":"SearchParameter","id":"race","url":"http://hl7.org/fhir/SearchParameter/Patient-name","name":"n","status":"active","description":"d","code":"nm","base":["Patient"],"type":"string","expression":"Patient.name"})",
       "R4 parameter's"},
      {R"({"resourceType":"SearchParameter","id":"race","url":"http://x/sp","name":"n","status":"active","description":"d","code":"near2","base":["Patient"],"type":"special","expression":"Patient.name"})",
       "not supported"},
      {R"({"resourceType":"SearchParameter","id":"race","url":"http://x/sp","name":"n","status":"active","description":"d","code":"c","base":["Patient"],"type":"composite","expression":"Patient"})",
       "two or three components"},
  };
  for (const Case& c : cases) {
    auto written = service_->Update(context_, "SearchParameter", "race", c.body, std::nullopt);
    ASSERT_FALSE(written) << c.body;
    EXPECT_EQ(written.error().code(), StatusCode::kUnprocessable) << c.body;
    EXPECT_NE(written.error().ToString().find(c.says), std::string::npos) << written.error().ToString();
  }
  EXPECT_FALSE(service_->Read(context_, "SearchParameter", "race")) << "nothing was stored";
  // Documentation is stored unchecked: a draft (or retired) parameter is never indexed.
  ASSERT_TRUE(service_->Update(context_, "SearchParameter", "race", RaceParameter("Patient.nonsense.where(", "draft"), std::nullopt));
  EXPECT_TRUE(registry().InForce()->custom.empty());
  // A copy of an R4 parameter (an implementation guide's, say) is stored, not put in force: R4's
  // is searched, and a caller who asks is told.
  RequestContext asking = context_;
  asking.report_warnings = true;
  auto copy = service_->Update(asking, "SearchParameter", "race", RaceParameter(kOmbRace, "active", "name"), std::nullopt);
  ASSERT_TRUE(copy) << copy.error().ToString();
  EXPECT_TRUE(std::any_of(copy->issues.begin(), copy->issues.end(), [](const Issue& issue) {
    return issue.severity == IssueSeverity::kWarning && issue.message.find("already has the R4 parameter 'name'") != std::string::npos;
  }));
  EXPECT_TRUE(registry().InForce()->custom.empty());
  EXPECT_TRUE(Found("name", "x"));
  ASSERT_TRUE(service_->Delete(context_, "SearchParameter", "race", std::nullopt));
  // Two custom parameters may not share a code on a base.
  Put(RaceParameter(kOmbRace));
  std::string twin = RaceParameter(kOmbEthnicity);
  twin.replace(twin.find(R"("id":"race")"), 11, R"("id":"twin")");
  twin.replace(twin.find(kRaceUrl), std::string(kRaceUrl).size(), "http://example.org/SearchParameter/twin");
  auto clash = service_->Update(context_, "SearchParameter", "twin", twin, std::nullopt);
  ASSERT_FALSE(clash);
  EXPECT_NE(clash.error().message().find("already has the custom parameter 'race'"), std::string::npos) << clash.error().ToString();
}

TEST_F(SearchParametersTest, AnUnfinishedJobIsResumedWhenTheRecordsOpenAgain) {
  Put(RaceParameter(kOmbRace));
  // The records close with the job queued (a server stopped, say) and open again.
  service_.reset();
  service_ = std::make_unique<RecordService>(fhir::Definitions::R4(), *store_);
  ASSERT_TRUE(service_->LoadStoredDefinitions().ok());
  EXPECT_FALSE(Found("race", "2106-3"));
  ASSERT_EQ(registry().Jobs().size(), 1u);
  EXPECT_EQ(registry().Jobs()[0].state, "queued");
  ASSERT_TRUE(registry().RunQueued().ok());
  EXPECT_EQ(*Found("race", "2106-3"), Expected(2, 0));
  // And once done, it is searchable at once after the next open.
  service_.reset();
  service_ = std::make_unique<RecordService>(fhir::Definitions::R4(), *store_);
  ASSERT_TRUE(service_->LoadStoredDefinitions().ok());
  EXPECT_TRUE(registry().Jobs().empty());
  EXPECT_EQ(*Found("race", "2106-3"), Expected(2, 0));
}

// A base of Resource covers every type: its job walks them all.
TEST_F(SearchParametersTest, AParameterOnEveryResourceTypeIndexesThemAll) {
  Put(R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"}})");
  Put(R"({"resourceType":"SearchParameter","id":"version","url":"http://example.org/SearchParameter/version","name":"version","status":"active","description":"d","code":"version-id","base":["Resource"],"type":"token","expression":"Resource.meta.versionId"})");
  ASSERT_TRUE(registry().RunQueued().ok());
  EXPECT_EQ(registry().Jobs().back().done, 622u) << "620 Patients, an Observation and the SearchParameter";
  EXPECT_EQ(Found("version-id", "1")->size(), 620u);
  search::SearchRequest observations{"Observation", {{"version-id", "1"}}};
  observations.strict = true;
  auto found = service_->Search(context_, observations);
  ASSERT_TRUE(found) << found.error().ToString();
  EXPECT_EQ(found->page.versions.size(), 1u);
}

TEST_F(SearchParametersTest, AReindexOfTypesRebuildsEveryParameterOfThem) {
  auto job = registry().Enqueue("", {"Patient", "Observation"});
  ASSERT_TRUE(job) << job.error().ToString();
  ASSERT_TRUE(registry().RunQueued().ok());
  std::optional<ReindexJobStatus> status = registry().Job(*job);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, "done");
  EXPECT_EQ(status->done, 620u);
  EXPECT_EQ(status->what, "types Observation,Patient");
  EXPECT_EQ(Found("_id", "p7")->size(), 1u);
  EXPECT_EQ(registry().Enqueue("", {"Nonsense"}).error().code(), StatusCode::kInvalid);
  EXPECT_EQ(registry().Enqueue("http://nowhere/sp", {}).error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ck::records
