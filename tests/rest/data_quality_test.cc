// Black-box specification of the REST side of data quality: the rest_validation policy (strict
// refuses a resource breaking a rule; lenient stores it, says so, and records its errors) and
// the admin operation GET /fhir/$quality-report (the report of `chartkeeper quality` as JSON).
#include <gtest/gtest.h>

#include "support/http_client.h"
#include "support/json.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace ck {
namespace {

using testing::HttpClient;
using testing::HttpResult;
using testing::ParseJson;

constexpr char kRobot[] = R"({"resourceType":"Patient","gender":"robot"})";

TEST(DataQualityTest, StrictByDefault) {
  testing::TempDir dir;
  testing::ServerProcess server(dir.path());
  HttpClient client(server.port());
  HttpResult refused = client.Post("/fhir/Patient", kRobot);
  EXPECT_EQ(refused.status, 422) << refused.body;
}

TEST(DataQualityTest, LenientStoresWhatBreaksARuleAndSaysSo) {
  testing::TempDir dir;
  testing::ServerProcess server(dir.path(), {"--rest-validation", "lenient"});
  HttpClient client(server.port());
  HttpResult stored = client.Post("/fhir/Patient", kRobot, {{"Prefer", "return=OperationOutcome"}});
  ASSERT_EQ(stored.status, 201) << stored.body;
  auto outcome = ParseJson(stored.body);
  ASSERT_TRUE(outcome.IsObject()) << stored.body;
  EXPECT_STREQ(outcome["issue"][0]["severity"].GetString(), "information");
  EXPECT_NE(std::string(outcome["issue"][0]["diagnostics"].GetString()).find("with 1 error recorded"), std::string::npos) << stored.body;
  EXPECT_STREQ(outcome["issue"][1]["severity"].GetString(), "error");
  EXPECT_STREQ(outcome["issue"][1]["expression"][0].GetString(), "Patient.gender");
  // Read back unchanged: nothing of the sender's data is lost.
  HttpResult read = client.Get(stored.headers["location"]);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_NE(read.body.find(R"("gender":"robot")"), std::string::npos) << read.body;
  // Not well-formed FHIR JSON is refused under this policy too.
  EXPECT_EQ(client.Post("/fhir/Patient", R"({"resourceType":"Patient","colour":"blue"})").status, 400);
  EXPECT_EQ(client.Post("/fhir/Patient", R"({"resourceType":"Patient","text":{"status":"generated",
    "div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script></div>"}})").status, 400);
  // The report lists it.
  HttpResult report = client.Get("/fhir/$quality-report?_type=Patient");
  ASSERT_EQ(report.status, 200) << report.body;
  auto json = ParseJson(report.body);
  ASSERT_TRUE(json.IsObject()) << report.body;
  ASSERT_EQ(json["types"].Size(), 1u);
  EXPECT_EQ(json["types"][0]["storedWithErrors"].GetInt(), 1);
  EXPECT_EQ(json["types"][0]["withErrors"].GetInt(), 1);
}

TEST(DataQualityTest, TheQualityReportOperation) {
  testing::TempDir dir;
  // Without referential integrity (as after an import) a reference can name nothing: the report says so.
  testing::ServerProcess server(dir.path(), {"--referential-integrity", "false"});
  HttpClient client(server.port());
  ASSERT_EQ(client.Post("/fhir/Patient", R"({"resourceType":"Patient","gender":"female"})").status, 201);
  ASSERT_EQ(client.Post("/fhir/Observation", R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
    "subject":{"reference":"Patient/nobody"}})").status, 201);

  HttpResult all = client.Get("/fhir/$quality-report");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.headers["content-type"], "application/json; charset=utf-8");
  auto json = ParseJson(all.body);
  ASSERT_TRUE(json.IsObject()) << all.body;
  ASSERT_EQ(json["types"].Size(), 2u);
  EXPECT_STREQ(json["types"][0]["type"].GetString(), "Observation");
  EXPECT_EQ(json["types"][0]["unresolvedReferences"].GetInt(), 1);
  const std::string example = json["types"][0]["unresolvedExamples"][0].GetString();
  EXPECT_TRUE(example.starts_with("Observation/") && example.ends_with(" -> Patient/nobody")) << example;
  EXPECT_STREQ(json["types"][1]["type"].GetString(), "Patient");

  HttpResult some = client.Get("/fhir/$quality-report?_type=Patient,Organization&_type=Encounter");
  ASSERT_EQ(some.status, 200) << some.body;
  auto only = ParseJson(some.body);
  ASSERT_EQ(only["types"].Size(), 1u);
  EXPECT_STREQ(only["types"][0]["type"].GetString(), "Patient");

  HttpResult unknown = client.Get("/fhir/$quality-report?_type=Robot");
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_NE(unknown.body.find("Robot"), std::string::npos) << unknown.body;
  EXPECT_EQ(client.Post("/fhir/$quality-report", "{}").status, 405);
  EXPECT_EQ(client.Get("/fhir/$quality-report", {{"Accept", "application/xml"}}).status, 406);
}

TEST(DataQualityTest, AnUnknownPolicyStopsTheServerFromStarting) {
  testing::TempDir dir;
  EXPECT_THROW(testing::ServerProcess(dir.path(), {"--rest-validation", "sloppy"}), std::runtime_error);
}

}  // namespace
}  // namespace ck
