// The audit trail over HTTP, black-box: every interaction leaves its AuditEvent (found by the
// request id the answer carried), AuditEvent is searchable and never writable, the disclosures
// report lists a patient's accesses, `audit verify` checks the trail of a serving server, and
// after SIGKILL every answer a client received has its record.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "support/chartkeeper_command.h"
#include "support/http_client.h"
#include "support/json.h"
#include "support/data_folder.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace ck {
namespace {

using testing::HttpClient;
using testing::HttpResult;
using testing::ParseJson;

class AuditApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<testing::ServerProcess>(dir_.path());
    ASSERT_EQ(Client().Put("/fhir/Patient/p1", R"({"resourceType":"Patient","id":"p1"})").status, 201);
    ASSERT_EQ(Client().Put("/fhir/Observation/o1", kObservation).status, 201);
  }
  HttpClient Client() const { return HttpClient(server_->port()); }

  // Subtype codes of the newest `count` AuditEvents, oldest first.
  std::vector<std::string> LastSubtypes(std::size_t count) {
    auto bundle = ParseJson(Client().Get("/fhir/AuditEvent?_count=" + std::to_string(count)).body);
    std::vector<std::string> out;
    for (auto& entry : bundle["entry"].GetArray()) out.insert(out.begin(), entry["resource"]["subtype"][0]["code"].GetString());
    return out;
  }

  static constexpr const char* kObservation =
      R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/p1"}})";
  testing::TempDir dir_;
  std::unique_ptr<testing::ServerProcess> server_;
};

TEST_F(AuditApiTest, EveryInteractionLeavesItsAuditEventInOrder) {
  HttpClient client = Client();
  EXPECT_EQ(client.Get("/fhir/Observation/o1").status, 200);
  EXPECT_EQ(client.Get("/fhir/Observation/o1/_history/1").status, 200);
  EXPECT_EQ(client.Get("/fhir/Observation?subject=Patient/p1").status, 200);
  EXPECT_EQ(client.Get("/fhir/Observation/o1/_history").status, 200);
  EXPECT_EQ(client.Request("PATCH", "/fhir/Observation/o1", R"([{"op":"replace","path":"/status","value":"amended"}])",
                           {{"Content-Type", "application/json-patch+json"}}).status, 200);
  EXPECT_EQ(client.Post("/fhir/Observation/$validate", kObservation).status, 200);
  EXPECT_EQ(client.Get("/fhir/Observation/nope").status, 404);
  EXPECT_EQ(client.Delete("/fhir/Observation/o1").status, 204);
  EXPECT_EQ(client.Post("/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:1",)"
                                  R"("resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]})").status,
            200);
  EXPECT_EQ(LastSubtypes(10), (std::vector<std::string>{"read", "vread", "search-type", "history-instance", "patch", "operation", "read",
                                                        "delete", "create", "transaction"}));
}

TEST_F(AuditApiTest, EverythingIsRecordedAsAnOperationOnThePatientsRecords) {
  ASSERT_EQ(Client().Get("/fhir/Patient/p1/$everything").status, 200);
  auto bundle = ParseJson(Client().Get("/fhir/AuditEvent?subtype=operation&patient=Patient/p1").body);
  ASSERT_EQ(bundle["entry"].Size(), 1u) << testing::ToJson(bundle);
  const std::string event = testing::ToJson(bundle["entry"][0]["resource"]);
  EXPECT_NE(event.find("Patient/p1/$everything"), std::string::npos) << event;
  EXPECT_NE(event.find(R"("reference":"Patient/p1")"), std::string::npos) << event;
}

TEST_F(AuditApiTest, AnEventSaysWhoWhatWhenAndWhichPatient) {
  HttpResult read = Client().Get("/fhir/Observation/o1");
  ASSERT_EQ(read.status, 200);
  auto bundle = ParseJson(Client().Get("/fhir/AuditEvent?entity=Observation/o1&subtype=read").body);
  ASSERT_EQ(bundle["entry"].Size(), 1u) << testing::ToJson(bundle);
  const auto& event = bundle["entry"][0]["resource"];
  EXPECT_STREQ(event["action"].GetString(), "R");
  EXPECT_STREQ(event["outcome"].GetString(), "0");
  EXPECT_STREQ(event["agent"][0]["network"]["address"].GetString(), "127.0.0.1");
  EXPECT_STREQ(event["entity"][0]["what"]["reference"].GetString(), "Observation/o1/_history/1");
  EXPECT_STREQ(event["entity"][1]["what"]["reference"].GetString(), "Patient/p1");
  // Reading the trail is itself recorded.
  auto again = ParseJson(Client().Get("/fhir/AuditEvent?subtype=search-type&_count=1").body);
  EXPECT_NE(std::string(testing::ToJson(again["entry"][0]["resource"])).find("QXVkaXRFdmVudD9lbnRpdHk9"), std::string::npos)
      << "the query entity holds AuditEvent?entity=...";
}

TEST_F(AuditApiTest, AuditEventIsNeverWritableAndTheAttemptIsRecorded) {
  HttpClient client = Client();
  for (const char* method : {"POST", "PUT", "PATCH", "DELETE"}) {
    const std::string target = std::string(method) == "POST" ? "/fhir/AuditEvent" : "/fhir/AuditEvent/1";
    HttpResult refused = client.Request(method, target, R"({"resourceType":"AuditEvent"})");
    EXPECT_EQ(refused.status, 405) << method;
    EXPECT_EQ(refused.Header("allow"), "GET");
  }
  EXPECT_EQ(client.Post("/fhir", R"({"resourceType":"Bundle","type":"batch","entry":[{"resource":{"resourceType":"AuditEvent"},)"
                                 R"("request":{"method":"POST","url":"AuditEvent"}}]})").status,
            200);
  auto refused = ParseJson(client.Get("/fhir/AuditEvent?outcome=4").body);
  ASSERT_EQ(refused["entry"].Size(), 5u) << testing::ToJson(refused);
  std::set<std::string> subtypes;
  for (auto& entry : refused["entry"].GetArray()) subtypes.insert(entry["resource"]["subtype"][0]["code"].GetString());
  EXPECT_EQ(subtypes, (std::set<std::string>{"create", "update", "patch", "delete"}));
  // The first records are still the server's start (with its configuration) and the first write.
  auto first = ParseJson(client.Get("/fhir/AuditEvent/1").body);
  EXPECT_STREQ(first["subtype"][0]["code"].GetString(), "server-start");
  EXPECT_NE(std::string(first["outcomeDesc"].GetString()).find("auth off"), std::string::npos);
  EXPECT_STREQ(ParseJson(client.Get("/fhir/AuditEvent/2").body)["subtype"][0]["code"].GetString(), "update");
}

TEST_F(AuditApiTest, SearchesByPatientDateActionAndPagesNewestFirst) {
  HttpClient client = Client();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(client.Get("/fhir/Observation/o1").status, 200);
  auto by_patient = ParseJson(client.Get("/fhir/AuditEvent?patient=Patient/p1&action=R").body);
  ASSERT_EQ(by_patient["entry"].Size(), 3u);
  auto page = ParseJson(client.Get("/fhir/AuditEvent?patient=p1&_count=2").body);
  ASSERT_EQ(page["entry"].Size(), 2u);
  std::string next;
  for (auto& link : page["link"].GetArray()) {
    if (std::string(link["relation"].GetString()) == "next") next = link["url"].GetString();
  }
  ASSERT_FALSE(next.empty());
  auto second = ParseJson(client.Get(next.substr(next.find("/fhir"))).body);
  EXPECT_LT(std::stoi(second["entry"][0]["resource"]["id"].GetString()), std::stoi(page["entry"][1]["resource"]["id"].GetString()));
  EXPECT_EQ(ParseJson(client.Get("/fhir/AuditEvent?date=lt2000-01-01").body).HasMember("entry"), false);
  EXPECT_EQ(client.Get("/fhir/AuditEvent?date=ge2000-01-01&_count=1").status, 200);
  EXPECT_EQ(client.Get("/fhir/AuditEvent?site=x").status, 400);
  EXPECT_EQ(client.Get("/fhir/AuditEvent?date=yesterday").status, 400);
  EXPECT_EQ(client.Get("/fhir/AuditEvent/999999").status, 404);
}

TEST_F(AuditApiTest, TheDisclosuresReportListsThePatientsAccesses) {
  HttpClient client = Client();
  ASSERT_EQ(client.Get("/fhir/Observation/o1").status, 200);
  HttpResult csv = client.Get("/fhir/Patient/p1/$disclosures?_format=csv");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.Header("content-type"), "text/csv; charset=utf-8");
  const std::vector<std::string_view> lines = [&] {
    std::vector<std::string_view> out;
    for (std::string_view rest = csv.body; !rest.empty();) {
      const std::size_t end = rest.find("\r\n");
      out.push_back(rest.substr(0, end));
      rest.remove_prefix(end + 2);
    }
    return out;
  }();
  ASSERT_EQ(lines.size(), 4u) << csv.body;  // header, the two writes of setup, the read
  EXPECT_NE(lines[3].find(",read,R,"), std::string_view::npos);
  EXPECT_NE(lines[3].find("Observation/o1/_history/1"), std::string_view::npos);
  const std::chrono::year_month_day today{std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
  const std::string last_year = std::to_string(static_cast<int>(today.year()) - 1) + "-01-01";
  HttpResult bundle = client.Get("/fhir/Patient/p1/$disclosures?start=" + last_year);
  ASSERT_EQ(bundle.status, 200);
  EXPECT_EQ(ParseJson(bundle.body)["entry"].Size(), 4u);  // the CSV report was an access too
  EXPECT_EQ(client.Get("/fhir/Patient/p1/$disclosures?start=1990-01-01").status, 400);  // more than six years
  EXPECT_EQ(client.Get("/fhir/Patient/p1/$disclosures?start=tomorrow").status, 400);
}

TEST_F(AuditApiTest, AuditVerifyChecksTheTrailOfAServingServer) {
  ASSERT_EQ(Client().Get("/fhir/Observation/o1").status, 200);
  auto verified = testing::RunChartkeeper("audit verify", dir_.path(), {});
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_NE(verified.output.find("audit trail intact"), std::string::npos) << verified.output;
}

// Every answer received (2xx or 4xx) carries a request id whose record is in the trail after a
// crash: the record was durable before the answer left.
TEST(AuditCrashTest, EveryAnswerReceivedHasItsRecordAfterSigkill) {
  testing::TempDir dir;
  std::set<std::string> answered;
  {
    testing::ServerProcess server(dir.path());
    ASSERT_EQ(HttpClient(server.port()).Put("/fhir/Patient/p1", R"({"resourceType":"Patient","id":"p1"})").status, 201);
    std::mutex mu;
    std::vector<std::thread> threads;
    std::atomic<bool> stop{false};
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        try {
          HttpClient client(server.port());
          for (int i = 0; !stop; ++i) {
            HttpResult answer = i % 3 == 0 ? client.Put("/fhir/Patient/t" + std::to_string(t), R"({"resourceType":"Patient","id":"t)" +
                                                                                                    std::to_string(t) + R"("})")
                                : i % 3 == 1 ? client.Get("/fhir/Patient/p1")
                                             : client.Get("/fhir/Patient?_id=p1,t" + std::to_string(t));
            if (answer.status < 500) {
              std::lock_guard lock(mu);
              answered.insert(answer.Header("x-request-id"));
            }
          }
        } catch (const std::exception&) {
          // The server died under us: expected.
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::random_device()() % 1500 + 500));
    server.Kill();
    stop = true;
    for (auto& thread : threads) thread.join();
  }
  ASSERT_GT(answered.size(), 10u);
  {
    testing::ServerProcess restarted(dir.path());  // recovers the database as a restart does
  }
  testing::RawDatabase database(dir.path());
  sqlite3* db = database.get();
  std::set<std::string> recorded;
  sqlite3_exec(db, "SELECT json_extract(content, '$.request') FROM audit_record", [](void* out, int, char** values, char**) {
    if (values[0] != nullptr) static_cast<std::set<std::string>*>(out)->insert(values[0]);
    return 0;
  }, &recorded, nullptr);
  for (const std::string& id : answered) EXPECT_TRUE(recorded.contains(id)) << "request " << id << " was answered but not recorded";
  auto verified = testing::RunChartkeeper("audit verify", dir.path(), {});
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
}

}  // namespace
}  // namespace ck
