// Custom search parameters over HTTP, online: a SearchParameter for US Core race's
// `ombCategory` is created while a writer keeps adding patients; once its reindex is done
// (searches under handling=strict stop answering 400) it finds exactly the patients stored before
// and during the reindex; the CapabilityStatement lists it only then; `POST /fhir/$reindex`
// answers 202 with a status URL; a server killed in the middle of a reindex resumes it at the
// next start from where it was (the job's count ends at the number of patients, not more).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "support/chartkeeper_command.h"
#include "support/http_client.h"
#include "support/json.h"
#include "support/search_pages.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace ck {
namespace {

using testing::HttpClient;
using testing::HttpResult;
using testing::ParseJson;

constexpr int kPatients = 2400;  // several of a job's pages (500)
constexpr char kRaceUrl[] = "http://example.org/SearchParameter/race";
const std::map<std::string, std::string> kStrict = {{"Prefer", "handling=strict"}};

std::string PatientWith(const std::string& id, const std::string& race) {
  return R"({"resourceType":"Patient","id":")" + id +
         R"(","extension":[{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race","extension":[{"url":"ombCategory","valueCoding":{"system":"urn:oid:2.16.840.1.113883.6.238","code":")" +
         race + R"("}}]}]})";
}

std::string RaceParameter(const std::string& status = "active") {
  return R"({"resourceType":"SearchParameter","id":"race","url":")" + std::string(kRaceUrl) + R"(","name":"race","status":")" + status +
         R"(","description":"US Core race, OMB category","code":"race","base":["Patient"],"type":"token","expression":"Patient.extension.where(url='http://hl7.org/fhir/us/core/StructureDefinition/us-core-race').extension.where(url='ombCategory').value"})";
}

class CustomSearchParameterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Imported offline: quicker than over HTTP.
    const std::filesystem::path ndjson = dir_.path() / "patients.ndjson";
    std::ofstream out(ndjson);
    for (int i = 0; i < kPatients; ++i) out << PatientWith("p" + std::to_string(i), i % 2 == 0 ? "2106-3" : "2054-5") << "\n";
    out.close();
    auto imported = testing::RunChartkeeper("import", dir_.path() / "data", {ndjson.string()});
    ASSERT_EQ(imported.exit_code, 0) << imported.output;
    server_ = std::make_unique<testing::ServerProcess>(dir_.path() / "data");
  }

  // The status of a strict search by race (400 while the parameter is not searchable).
  int RaceSearchStatus() { return HttpClient(server_->port()).Get("/fhir/Patient?race=2106-3&_count=1", kStrict).status; }
  // Waits until a strict race search answers 200; false after two minutes.
  bool WaitUntilSearchable() {
    for (int i = 0; i < 2400; ++i) {
      if (RaceSearchStatus() == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  std::set<std::string> White() {
    HttpClient client(server_->port());
    auto found = testing::Flatten(testing::WalkPages(client, "/fhir/Patient?race=2106-3&_count=1000&_elements=id").pages);
    return {found.begin(), found.end()};
  }
  std::string CapabilityStatement() { return HttpClient(server_->port()).Get("/fhir/metadata").body; }

  testing::TempDir dir_;
  std::unique_ptr<testing::ServerProcess> server_;
};

TEST_F(CustomSearchParameterTest, AParameterCreatedWhileAWriterRunsFindsEveryPatientOnceReindexed) {
  std::atomic<bool> writing{true};
  std::vector<std::string> written;
  std::thread writer([&] {
    HttpClient client(server_->port());
    for (int i = 0; writing; ++i) {
      const std::string id = "w" + std::to_string(i);
      HttpResult put = client.Put("/fhir/Patient/" + id, PatientWith(id, "2106-3"));
      if (put.status / 100 != 2) {
        ADD_FAILURE() << put.body;
        return;
      }
      written.push_back(id);
    }
  });
  HttpClient client(server_->port());
  HttpResult created = client.Put("/fhir/SearchParameter/race", RaceParameter());
  ASSERT_EQ(created.status, 201) << created.body;
  const bool searchable = WaitUntilSearchable();
  // A few more writes after it became searchable, then the writer stops.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  writing = false;
  writer.join();
  ASSERT_TRUE(searchable);
  std::set<std::string> expected(written.begin(), written.end());
  for (int i = 0; i < kPatients; i += 2) expected.insert("p" + std::to_string(i));
  EXPECT_GT(written.size(), 0u);
  EXPECT_EQ(White(), expected);
  EXPECT_NE(CapabilityStatement().find(kRaceUrl), std::string::npos);

  // Retired: no longer a parameter, nor in the CapabilityStatement.
  ASSERT_EQ(client.Put("/fhir/SearchParameter/race", RaceParameter("retired")).status, 200);
  EXPECT_EQ(RaceSearchStatus(), 400);
  EXPECT_EQ(CapabilityStatement().find(kRaceUrl), std::string::npos);
}

TEST_F(CustomSearchParameterTest, ReindexAnswersWithAStatusUrlAndRefusesBadRequests) {
  HttpClient client(server_->port());
  ASSERT_EQ(client.Put("/fhir/SearchParameter/race", RaceParameter()).status, 201);
  ASSERT_TRUE(WaitUntilSearchable());
  HttpResult queued = client.Post(std::string("/fhir/$reindex?url=") + kRaceUrl, "");
  ASSERT_EQ(queued.status, 202) << queued.body;
  std::string location = queued.Header("content-location");
  ASSERT_NE(location.find("/fhir/$reindex/"), std::string::npos);
  location = location.substr(location.find("/fhir/"));
  HttpResult status;
  for (int i = 0; i < 2400; ++i) {
    status = client.Get(location);
    if (status.status != 202) break;
    EXPECT_NE(status.Header("x-progress"), "");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status.status, 200) << status.body;
  EXPECT_NE(status.body.find(std::to_string(kPatients) + " resources indexed"), std::string::npos) << status.body;
  // The Parameters form, of types.
  HttpResult types = client.Post("/fhir/$reindex",
                                 R"({"resourceType":"Parameters","parameter":[{"name":"type","valueCode":"Observation"}]})",
                                 {{"Content-Type", "application/fhir+json"}});
  EXPECT_EQ(types.status, 202) << types.body;
  EXPECT_EQ(client.Post("/fhir/$reindex?url=http://nowhere/sp", "").status, 404);
  EXPECT_EQ(client.Post("/fhir/$reindex?type=Nonsense", "").status, 400);
  EXPECT_EQ(client.Post("/fhir/$reindex?colour=red", "").status, 400);
  EXPECT_EQ(client.Get("/fhir/$reindex/no-such-job").status, 404);
  HttpResult jobs = client.Get("/fhir/$reindex");
  ASSERT_EQ(jobs.status, 200) << jobs.body;
  EXPECT_NE(jobs.body.find(std::string("parameter ") + kRaceUrl + ": done, at Patient, " + std::to_string(kPatients) + " resources indexed"),
            std::string::npos)
      << jobs.body;
  EXPECT_NE(jobs.body.find("types Observation"), std::string::npos) << jobs.body;
  EXPECT_EQ(client.Request("DELETE", "/fhir/$reindex").status, 405);
  HttpResult bad = client.Put("/fhir/SearchParameter/bad", R"({"resourceType":"SearchParameter","id":"bad","url":"http://x/bad","name":"b","status":"active","description":"d","code":"bad","base":["Patient"],"type":"token","expression":"Patient.nosuchthing"})");
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_NE(bad.body.find("nosuchthing"), std::string::npos) << bad.body;
}

TEST_F(CustomSearchParameterTest, AServerKilledInTheMiddleOfAReindexResumesItAtTheNextStart) {
  HttpClient client(server_->port());
  ASSERT_EQ(client.Put("/fhir/SearchParameter/race", RaceParameter()).status, 201);
  ASSERT_TRUE(WaitUntilSearchable());
  // A reindex asked for, watched until it is part way (a page or more done, not all), then the
  // server is killed. A job that ends between two looks is asked for again.
  std::string location;
  bool killed = false;
  for (int attempt = 0; attempt < 10 && !killed; ++attempt) {
    HttpResult queued = client.Post(std::string("/fhir/$reindex?url=") + kRaceUrl, "");
    ASSERT_EQ(queued.status, 202) << queued.body;
    location = queued.Header("content-location");
    location = location.substr(location.find("/fhir/"));
    while (true) {
      HttpResult status = client.Get(location);
      if (status.status != 202) break;
      const std::string progress = status.Header("x-progress");
      const std::size_t at = progress.rfind(", ");
      const long done = std::stol(progress.substr(at + 2));
      if (progress.find("running") != std::string::npos && done >= 500 && done < kPatients) {
        server_->Kill();
        killed = true;
        break;
      }
    }
  }
  ASSERT_TRUE(killed) << "never saw the reindex part way";
  server_ = std::make_unique<testing::ServerProcess>(dir_.path() / "data");
  HttpClient again(server_->port());
  HttpResult status;
  for (int i = 0; i < 2400; ++i) {
    status = again.Get(location);
    if (status.status != 202) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(status.status, 200) << status.body;
  // Resumed, not started over: every patient counted once.
  EXPECT_NE(status.body.find(": done, at Patient, " + std::to_string(kPatients) + " resources indexed"), std::string::npos) << status.body;
  std::set<std::string> expected;
  for (int i = 0; i < kPatients; i += 2) expected.insert("p" + std::to_string(i));
  EXPECT_EQ(White(), expected);
}

}  // namespace
}  // namespace ck
