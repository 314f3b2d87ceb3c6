// Black-box specification of the FHIR REST API: the real binary on a loopback port with a fresh
// data folder, spoken to over HTTP.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "fhir/definitions.h"
#include "rest/http_message.h"
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

constexpr char kPatient[] = R"({"resourceType":"Patient","name":[{"family":"Example","given":["Pat"]}],"birthDate":"1970-01-01"})";

class FhirRestTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    server_ = new testing::ServerProcess(dir_->path(), {"--max-body-bytes", "100000"});
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  HttpClient client_{server_->port()};

  std::string PutPatient(const std::string& id, const std::string& extra = "") {
    std::string body = R"({"resourceType":"Patient","id":")" + id + R"(")" + extra + "}";
    HttpResult result = client_.Put("/fhir/Patient/" + id, body);
    EXPECT_TRUE(result.status == 200 || result.status == 201) << result.body;
    return result.Header("etag");
  }

  static void ExpectOutcome(const HttpResult& result, int status, const std::string& issue_code) {
    EXPECT_EQ(result.status, status) << result.body;
    EXPECT_EQ(result.Header("content-type"), "application/fhir+json; charset=utf-8");
    auto doc = ParseJson(result.body);
    ASSERT_TRUE(doc.IsObject()) << result.body;
    EXPECT_STREQ(doc["resourceType"].GetString(), "OperationOutcome");
    EXPECT_STREQ(doc["issue"][0]["severity"].GetString(), "error");
    EXPECT_EQ(std::string(doc["issue"][0]["code"].GetString()), issue_code) << result.body;
  }

  static inline testing::TempDir* dir_ = nullptr;
  static inline testing::ServerProcess* server_ = nullptr;
};

TEST_F(FhirRestTest, CreateAssignsAnIdAndAnswersWithLocationEtagAndLastModified) {
  HttpResult created = client_.Post("/fhir/Patient", kPatient);
  ASSERT_EQ(created.status, 201) << created.body;
  auto doc = ParseJson(created.body);
  std::string id = doc["id"].GetString();
  EXPECT_EQ(std::string(doc["meta"]["versionId"].GetString()), "1");
  EXPECT_EQ(created.Header("etag"), "W/\"1\"");
  EXPECT_EQ(created.Header("location"),
            "http://127.0.0.1:" + std::to_string(server_->port()) + "/fhir/Patient/" + id + "/_history/1");
  EXPECT_FALSE(created.Header("last-modified").empty());
  HttpResult read = client_.Get("/fhir/Patient/" + id);
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(read.body, created.body);
  EXPECT_EQ(read.Header("etag"), "W/\"1\"");
  EXPECT_EQ(read.Header("last-modified"), created.Header("last-modified"));
}

TEST_F(FhirRestTest, CreateIgnoresTheClientsIdAndAcceptsPlainJson) {
  HttpResult created = client_.Post("/fhir/Patient", R"({"resourceType":"Patient","id":"mine"})",
                                    {{"Content-Type", "application/json"}});
  ASSERT_EQ(created.status, 201);
  EXPECT_STRNE(ParseJson(created.body)["id"].GetString(), "mine");
}

TEST_F(FhirRestTest, UpdateCreatesWithTheClientsIdThenAddsVersions) {
  HttpResult first = client_.Put("/fhir/Patient/upd-1", R"({"resourceType":"Patient","id":"upd-1"})");
  EXPECT_EQ(first.status, 201);
  HttpResult second = client_.Put("/fhir/Patient/upd-1", R"({"resourceType":"Patient","id":"upd-1","active":true})");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.Header("etag"), "W/\"2\"");
  EXPECT_NE(second.Header("location").find("/fhir/Patient/upd-1/_history/2"), std::string::npos);
  HttpResult v1 = client_.Get("/fhir/Patient/upd-1/_history/1");
  EXPECT_EQ(v1.status, 200);
  EXPECT_EQ(v1.Header("etag"), "W/\"1\"");
  EXPECT_EQ(v1.body.find("active"), std::string::npos);
  ExpectOutcome(client_.Get("/fhir/Patient/upd-1/_history/9"), 404, "not-found");
  ExpectOutcome(client_.Get("/fhir/Patient/upd-1/_history/x"), 404, "not-found");
}

TEST_F(FhirRestTest, IfMatchGivesOptimisticLocking) {
  PutPatient("lock-1");
  ExpectOutcome(client_.Put("/fhir/Patient/lock-1", R"({"resourceType":"Patient","id":"lock-1"})", {{"If-Match", "W/\"5\""}}),
                412, "conflict");
  EXPECT_EQ(client_.Put("/fhir/Patient/lock-1", R"({"resourceType":"Patient","id":"lock-1"})", {{"If-Match", "W/\"1\""}}).status, 200);
  ExpectOutcome(client_.Put("/fhir/Patient/lock-1", R"({"resourceType":"Patient","id":"lock-1"})", {{"If-Match", "one"}}), 400,
                "invalid");
  ExpectOutcome(client_.Delete("/fhir/Patient/lock-1", {{"If-Match", "W/\"1\""}}), 412, "conflict");
  EXPECT_EQ(client_.Get("/fhir/Patient/lock-1").Header("etag"), "W/\"2\"");
}

TEST_F(FhirRestTest, DeleteLeavesATombstone) {
  PutPatient("del-1");
  HttpResult deleted = client_.Delete("/fhir/Patient/del-1");
  EXPECT_EQ(deleted.status, 204);
  EXPECT_EQ(deleted.Header("etag"), "W/\"2\"");
  ExpectOutcome(client_.Get("/fhir/Patient/del-1"), 410, "deleted");
  EXPECT_EQ(client_.Get("/fhir/Patient/del-1/_history/1").status, 200);
  ExpectOutcome(client_.Get("/fhir/Patient/del-1/_history/2"), 410, "deleted");
  EXPECT_EQ(client_.Delete("/fhir/Patient/del-1").status, 204);  // idempotent
  ExpectOutcome(client_.Delete("/fhir/Patient/never-was"), 404, "not-found");
  auto history = ParseJson(client_.Get("/fhir/Patient/del-1/_history").body);
  EXPECT_EQ(history["total"].GetInt(), 2);
  EXPECT_STREQ(history["entry"][0]["request"]["method"].GetString(), "DELETE");
  EXPECT_FALSE(history["entry"][0].HasMember("resource"));
  HttpResult outcome = client_.Delete("/fhir/Patient/del-2", {});
  EXPECT_EQ(outcome.status, 404);
}

TEST_F(FhirRestTest, DeleteCanAnswerWithAnOperationOutcome) {
  PutPatient("del-oo");
  HttpResult deleted = client_.Delete("/fhir/Patient/del-oo", {{"Prefer", "return=OperationOutcome"}});
  EXPECT_EQ(deleted.status, 200);
  EXPECT_STREQ(ParseJson(deleted.body)["issue"][0]["severity"].GetString(), "information");
}

TEST_F(FhirRestTest, HistoryAtThreeLevelsWithPaging) {
  for (int i = 0; i < 5; ++i) PutPatient("hist-1", i % 2 ? R"(,"active":true)" : R"(,"active":false)");
  auto page1 = ParseJson(client_.Get("/fhir/Patient/hist-1/_history?_count=2").body);
  EXPECT_STREQ(page1["type"].GetString(), "history");
  EXPECT_EQ(page1["total"].GetInt(), 5);  // a resource's versions are always counted
  ASSERT_EQ(page1["entry"].Size(), 2u);
  EXPECT_STREQ(page1["entry"][0]["resource"]["meta"]["versionId"].GetString(), "5");
  EXPECT_STREQ(page1["entry"][0]["request"]["method"].GetString(), "PUT");
  EXPECT_STREQ(page1["entry"][0]["response"]["etag"].GetString(), "W/\"5\"");
  EXPECT_TRUE(testing::BundleLink(page1, "previous").empty());
  std::string next = testing::BundleLink(page1, "next");
  ASSERT_FALSE(next.empty());
  PutPatient("hist-1");  // a later write does not shift the pages
  auto page2 = ParseJson(client_.Get(next).body);
  EXPECT_STREQ(page2["entry"][0]["resource"]["meta"]["versionId"].GetString(), "3");
  std::string previous = testing::BundleLink(page2, "previous");
  ASSERT_FALSE(previous.empty());
  auto back = ParseJson(client_.Get(previous).body);
  ASSERT_EQ(back["entry"].Size(), 2u);
  EXPECT_STREQ(back["entry"][0]["resource"]["meta"]["versionId"].GetString(), "5");  // the snapshot's first page
  // Following next links from the first page visits each version of the snapshot once, newest first.
  std::vector<std::string> seen;
  std::string url = testing::BundleLink(page2, "first");
  while (!url.empty()) {
    auto page = ParseJson(client_.Get(url).body);
    for (auto& entry : page["entry"].GetArray()) seen.push_back(entry["resource"]["meta"]["versionId"].GetString());
    url = testing::BundleLink(page, "next");
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"5", "4", "3", "2", "1"}));
  // A type's or the system's versions are counted only when asked for.
  EXPECT_FALSE(ParseJson(client_.Get("/fhir/Patient/_history").body).HasMember("total"));
  auto type_history = ParseJson(client_.Get("/fhir/Patient/_history?_total=accurate").body);
  EXPECT_GE(type_history["total"].GetInt(), 6);
  auto system_history = ParseJson(client_.Get("/fhir/_history?_total=accurate").body);
  EXPECT_GE(system_history["total"].GetInt(), type_history["total"].GetInt());
  EXPECT_NE(testing::BundleLink(system_history, "first").find("_total=accurate"), std::string::npos);
}

TEST_F(FhirRestTest, HistoryFiltersBySinceAndAt) {
  PutPatient("since-1");
  std::string last_modified = client_.Get("/fhir/Patient/since-1").Header("last-modified");
  auto future = ParseJson(client_.Get("/fhir/Patient/since-1/_history?_since=2999-01-01T00:00:00Z").body);
  EXPECT_EQ(future["total"].GetInt(), 0);
  EXPECT_FALSE(future.HasMember("entry"));
  auto past = ParseJson(client_.Get("/fhir/Patient/since-1/_history?_since=2000-01-01T00:00:00%2B01:00").body);
  EXPECT_EQ(past["total"].GetInt(), 1);
  auto unescaped_plus = client_.Get("/fhir/Patient/since-1/_history?_since=2000-01-01T00:00:00+01:00");
  EXPECT_EQ(unescaped_plus.status, 200);
  auto at = ParseJson(client_.Get("/fhir/Patient/since-1/_history?_at=2999").body);
  EXPECT_EQ(at["total"].GetInt(), 1);  // current throughout 2999
  auto before = ParseJson(client_.Get("/fhir/Patient/since-1/_history?_at=2001").body);
  EXPECT_EQ(before["total"].GetInt(), 0);
  ExpectOutcome(client_.Get("/fhir/Patient/_history?_since=yesterday"), 400, "invalid");
  ExpectOutcome(client_.Get("/fhir/Patient/_history?_at=2020-13"), 400, "invalid");
  ExpectOutcome(client_.Get("/fhir/Patient/_history?_count=0"), 400, "invalid");
  ExpectOutcome(client_.Get("/fhir/Patient/_history?_count=-3"), 400, "invalid");
  ExpectOutcome(client_.Get("/fhir/Patient/_history?_offset=20"), 400, "invalid");  // links of an older release
  ExpectOutcome(client_.Get("/fhir/Patient/_history?_before=x"), 400, "invalid");
  ExpectOutcome(client_.Get("/fhir/Patient/_history?_after=-2"), 400, "invalid");
  ExpectOutcome(client_.Get("/fhir/Patient/_history?_snapshot=-1"), 400, "invalid");
  ExpectOutcome(client_.Get("/fhir/Patient/_history?_total=maybe"), 400, "invalid");
  ExpectOutcome(client_.Get("/fhir/Nope/_history"), 404, "not-supported");
}

TEST_F(FhirRestTest, ConditionalReadAnswersNotModified) {
  std::string etag = PutPatient("cond-1");
  HttpResult read = client_.Get("/fhir/Patient/cond-1");
  EXPECT_EQ(client_.Get("/fhir/Patient/cond-1", {{"If-None-Match", etag}}).status, 304);
  EXPECT_EQ(client_.Get("/fhir/Patient/cond-1", {{"If-None-Match", "W/\"99\""}}).status, 200);
  EXPECT_EQ(client_.Get("/fhir/Patient/cond-1", {{"If-Modified-Since", read.Header("last-modified")}}).status, 304);
  EXPECT_EQ(client_.Get("/fhir/Patient/cond-1", {{"If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT"}}).status, 200);
  EXPECT_EQ(client_.Get("/fhir/Patient/cond-1", {{"If-Modified-Since", "garbage"}}).status, 200);
}

TEST_F(FhirRestTest, HeadAnswersLikeGetWithoutTheBody) {
  std::string etag = PutPatient("head-1");
  HttpResult read = client_.Get("/fhir/Patient/head-1");
  HttpResult head = client_.Request("HEAD", "/fhir/Patient/head-1");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.Header("etag"), etag);
  EXPECT_EQ(head.Header("content-length"), std::to_string(read.body.size()));
  EXPECT_EQ(client_.Request("HEAD", "/fhir/Patient/no-such").status, 404);
  EXPECT_EQ(client_.Get("/fhir/Patient/head-1").body, read.body);  // the connection is still in step
}

TEST_F(FhirRestTest, PreferDecidesTheBodyOfAWrite) {
  HttpResult minimal = client_.Post("/fhir/Patient", kPatient, {{"Prefer", "return=minimal"}});
  EXPECT_EQ(minimal.status, 201);
  EXPECT_TRUE(minimal.body.empty());
  EXPECT_FALSE(minimal.Header("location").empty());
  HttpResult outcome = client_.Post("/fhir/Patient", kPatient, {{"Prefer", "return=OperationOutcome"}});
  EXPECT_EQ(outcome.status, 201);
  EXPECT_STREQ(ParseJson(outcome.body)["resourceType"].GetString(), "OperationOutcome");
  HttpResult full = client_.Post("/fhir/Patient", kPatient, {{"Prefer", "return=representation"}});
  EXPECT_STREQ(ParseJson(full.body)["resourceType"].GetString(), "Patient");
}

TEST_F(FhirRestTest, WarningsNeverBlockAWriteAndComeBackWhenAskedFor) {
  // maritalStatus outside its extensible value set: a warning; no narrative: dom-6, a warning.
  const std::string patient = R"({"resourceType":"Patient","maritalStatus":{"coding":[{"system":"http://example.org/local","code":"x"}]}})";
  HttpResult plain = client_.Post("/fhir/Patient", patient);
  EXPECT_EQ(plain.status, 201) << plain.body;
  HttpResult outcome = client_.Post("/fhir/Patient", patient, {{"Prefer", "return=OperationOutcome"}});
  ASSERT_EQ(outcome.status, 201) << outcome.body;
  auto doc = ParseJson(outcome.body);
  ASSERT_EQ(doc["issue"].Size(), 3u) << outcome.body;
  EXPECT_STREQ(doc["issue"][0]["severity"].GetString(), "information");
  std::set<std::string> warnings;
  for (std::size_t i = 1; i < 3; ++i) {
    EXPECT_STREQ(doc["issue"][i]["severity"].GetString(), "warning") << outcome.body;
    warnings.insert(doc["issue"][i]["expression"][0].GetString());
  }
  EXPECT_EQ(warnings, (std::set<std::string>{"Patient", "Patient.maritalStatus"}));
  // An error still refuses the write, and the answer lists the warnings beside it.
  HttpResult refused = client_.Post("/fhir/Patient", R"({"resourceType":"Patient","gender":"robot"})",
                                    {{"Prefer", "return=OperationOutcome"}});
  ExpectOutcome(refused, 422, "code-invalid");
  EXPECT_EQ(ParseJson(refused.body)["issue"].Size(), 2u) << refused.body;
}

TEST_F(FhirRestTest, ValidateAnswersEveryIssueAndStoresNothing) {
  auto issues_of = [](const HttpResult& result) {
    EXPECT_EQ(result.status, 200) << result.body;
    std::vector<std::string> out;
    auto doc = ParseJson(result.body);
    for (auto& issue : doc["issue"].GetArray()) {
      out.push_back(std::string(issue["severity"].GetString()) + " " + (issue.HasMember("expression") ? issue["expression"][0].GetString() : ""));
    }
    return out;
  };
  // An invalid resource as the body: 200, every error located; nothing stored.
  auto before = ParseJson(client_.Get("/fhir/Patient/_history?_total=accurate").body)["total"].GetInt();
  auto invalid = issues_of(client_.Post("/fhir/Patient/$validate", R"({"resourceType":"Patient","gender":"robot",
    "contact":[{"gender":"male"}]})"));
  EXPECT_EQ(std::count(invalid.begin(), invalid.end(), "error Patient.gender"), 1) << ::testing::PrintToString(invalid);
  EXPECT_EQ(std::count(invalid.begin(), invalid.end(), "error Patient.contact[0]"), 1) << ::testing::PrintToString(invalid);
  EXPECT_EQ(std::count(invalid.begin(), invalid.end(), "warning Patient"), 1) << ::testing::PrintToString(invalid);  // dom-6
  EXPECT_EQ(ParseJson(client_.Get("/fhir/Patient/_history?_total=accurate").body)["total"].GetInt(), before);
  // Structural problems are findings too, not a failed request.
  auto structural = issues_of(client_.Post("/fhir/Patient/$validate", R"({"resourceType":"Patient","birthDate":"yesterday"})"));
  ASSERT_FALSE(structural.empty());
  EXPECT_EQ(structural[0], "error Patient.birthDate");
  // A valid resource in a Parameters body: one information issue.
  const std::string valid = R"({"resourceType":"Patient","id":"v1","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">P</div>"}})";
  auto ok = issues_of(client_.Post("/fhir/Patient/$validate",
                                   R"({"resourceType":"Parameters","parameter":[{"name":"mode","valueCode":"create"},{"name":"resource","resource":)" + valid + "}]}"));
  EXPECT_EQ(ok, std::vector<std::string>{"information "});
  // Mode update at the instance level: the ids must agree.
  auto mismatch = issues_of(client_.Post("/fhir/Patient/other/$validate?mode=update", valid));
  EXPECT_EQ(mismatch[0], "error Patient.id");
  // Mode delete: whether the resource exists to be deleted.
  PutPatient("val-del");
  EXPECT_EQ(issues_of(client_.Get("/fhir/Patient/val-del/$validate?mode=delete")), std::vector<std::string>{"information "});
  EXPECT_EQ(issues_of(client_.Post("/fhir/Patient/never-was/$validate?mode=delete", "")), std::vector<std::string>{"error "});
  // What cannot be validated at all is a 4xx.
  ExpectOutcome(client_.Post("/fhir/Patient/$validate", "{not json"), 400, "invalid");
  ExpectOutcome(client_.Post("/fhir/Patient/$validate", R"({"resourceType":"Parameters","parameter":[{"name":"mode","valueCode":"erase"}]})"),
                400, "invalid");
  ExpectOutcome(client_.Post("/fhir/Patient/$validate", R"({"resourceType":"Parameters","parameter":[{"name":"mode","valueCode":"create"}]})"),
                400, "invalid");
  ExpectOutcome(client_.Post("/fhir/Patient/$validate?mode=delete", ""), 400, "invalid");
  ExpectOutcome(client_.Post("/fhir/Robot/$validate", valid), 404, "not-supported");
  ExpectOutcome(client_.Put("/fhir/Patient/$validate", valid), 405, "not-supported");
}

TEST_F(FhirRestTest, NegotiatesJsonOnly) {
  PutPatient("fmt-1");
  EXPECT_EQ(client_.Get("/fhir/Patient/fmt-1", {{"Accept", "application/fhir+json"}}).status, 200);
  EXPECT_EQ(client_.Get("/fhir/Patient/fmt-1", {{"Accept", "text/html, application/json;q=0.9"}}).status, 200);
  EXPECT_EQ(client_.Get("/fhir/Patient/fmt-1", {{"Accept", "*/*"}}).status, 200);
  EXPECT_EQ(client_.Get("/fhir/Patient/fmt-1?_format=json").status, 200);
  ExpectOutcome(client_.Get("/fhir/Patient/fmt-1", {{"Accept", "application/fhir+xml"}}), 406, "not-supported");
  ExpectOutcome(client_.Get("/fhir/Patient/fmt-1?_format=xml"), 406, "not-supported");
  ExpectOutcome(client_.Post("/fhir/Patient", kPatient, {{"Content-Type", "application/fhir+xml"}}), 415, "not-supported");
  ExpectOutcome(client_.Post("/fhir/Patient", kPatient, {{"Content-Type", "text/plain"}}), 415, "not-supported");
  ExpectOutcome(client_.Post("/fhir/Patient", kPatient, {{"Content-Type", "application/fhir+json; charset=latin1"}}), 415,
                "not-supported");
  HttpResult pretty = client_.Get("/fhir/Patient/fmt-1?_pretty=true");
  EXPECT_NE(pretty.body.find("\n  \"resourceType\": \"Patient\""), std::string::npos);
  EXPECT_EQ(testing::CanonicalJson(pretty.body), testing::CanonicalJson(client_.Get("/fhir/Patient/fmt-1").body));
}

TEST_F(FhirRestTest, RefusesBadBodiesWithPreciseOutcomes) {
  ExpectOutcome(client_.Post("/fhir/Patient", "{not json"), 400, "invalid");
  HttpResult unknown = client_.Post("/fhir/Patient", R"({"resourceType":"Patient","nmae":[{"family":"X"}]})");
  ExpectOutcome(unknown, 400, "structure");
  EXPECT_STREQ(ParseJson(unknown.body)["issue"][0]["expression"][0].GetString(), "Patient");  // where the reference validator puts it
  ExpectOutcome(client_.Post("/fhir/Observation", R"({"resourceType":"Observation","code":{"text":"x"}})"), 422, "required");
  ExpectOutcome(client_.Post("/fhir/Observation", kPatient), 400, "invalid");
  ExpectOutcome(client_.Put("/fhir/Patient/a1", R"({"resourceType":"Patient","id":"b2"})"), 400, "invalid");
  ExpectOutcome(client_.Put("/fhir/Patient/a1", R"({"resourceType":"Patient"})"), 400, "required");
  ExpectOutcome(client_.Post("/fhir/Nope", kPatient), 404, "not-supported");
  std::string deep = R"({"resourceType":"Patient","extension":)";
  for (int i = 0; i < 2000; ++i) deep += R"([{"url":"u","extension":)";
  ExpectOutcome(client_.Post("/fhir/Patient", deep), 400, "structure");
  EXPECT_EQ(client_.Get("/healthz").status, 200);  // still alive
}

// The defects a new user found: codes outside required value sets and two types of one choice
// element were stored with 201.
TEST_F(FhirRestTest, RefusesCodesOutsideRequiredValueSetsAndTwoTypesOfOneChoice) {
  HttpResult robot = client_.Post("/fhir/Patient", R"({"resourceType":"Patient","gender":"robot"})");
  ExpectOutcome(robot, 422, "code-invalid");
  EXPECT_STREQ(ParseJson(robot.body)["issue"][0]["expression"][0].GetString(), "Patient.gender");
  ExpectOutcome(client_.Put("/fhir/Observation/o1", R"({"resourceType":"Observation","id":"o1","status":"nonsense","code":{"text":"x"}})"),
                422, "code-invalid");
  EXPECT_EQ(client_.Get("/fhir/Observation/o1").status, 404);  // nothing stored
  HttpResult two = client_.Post("/fhir/Observation",
                                R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"a","valueBoolean":true})");
  ExpectOutcome(two, 400, "structure");
  EXPECT_STREQ(ParseJson(two.body)["issue"][0]["expression"][0].GetString(), "Observation.valueBoolean");
  HttpResult first_item = client_.Post("/fhir/Patient", R"({"resourceType":"Patient","contact":[{"name":{"family":""}}]})");
  EXPECT_STREQ(ParseJson(first_item.body)["issue"][0]["expression"][0].GetString(), "Patient.contact[0].name.family");
  EXPECT_EQ(client_.Post("/fhir/Patient", R"({"resourceType":"Patient","gender":"female"})").status, 201);
}

TEST_F(FhirRestTest, RefusesBodiesOverTheLimit) {
  std::string big = R"({"resourceType":"Patient","name":[{"family":")" + std::string(200000, 'x') + R"("}]})";
  ExpectOutcome(client_.Post("/fhir/Patient", big), 413, "too-long");
  EXPECT_EQ(client_.Get("/healthz").status, 200);
}

TEST_F(FhirRestTest, AnswersUnknownRoutesAndMethods) {
  ExpectOutcome(client_.Get("/fhir/Patient/a/b/c/d/e"), 404, "not-found");
  ExpectOutcome(client_.Get("/nothing-here"), 404, "not-found");
  HttpResult copy = client_.Request("COPY", "/fhir/Patient/x", "", {});
  ExpectOutcome(copy, 405, "not-supported");
  EXPECT_EQ(copy.Header("allow"), "GET, PUT, PATCH, DELETE");
  ExpectOutcome(client_.Post("/fhir/_history", kPatient), 405, "not-supported");
  EXPECT_EQ(client_.Post("/fhir", R"({"resourceType":"Bundle","type":"batch"})").status, 200);  // an empty batch
  HttpResult delete_base = client_.Request("DELETE", "/fhir", "", {});
  ExpectOutcome(delete_base, 405, "not-supported");
  EXPECT_EQ(delete_base.Header("allow"), "GET, POST");
  ExpectOutcome(client_.Get("/fhir/Patient/%zz"), 400, "invalid");
}

TEST_F(FhirRestTest, CapabilityStatementListsEveryTypeAndOnlyWhatWorks) {
  HttpResult metadata = client_.Get("/fhir/metadata");
  ASSERT_EQ(metadata.status, 200);
  auto doc = ParseJson(metadata.body);
  EXPECT_STREQ(doc["resourceType"].GetString(), "CapabilityStatement");
  EXPECT_STREQ(doc["fhirVersion"].GetString(), "4.0.1");
  auto& resources = doc["rest"][0]["resource"];
  EXPECT_EQ(resources.Size(), 146u);
  for (auto& resource : resources.GetArray()) {
    std::set<std::string> codes;
    for (auto& interaction : resource["interaction"].GetArray()) codes.insert(interaction["code"].GetString());
    const std::string type = resource["type"].GetString();
    std::set<std::string> params;
    for (auto& param : resource["searchParam"].GetArray()) params.insert(param["name"].GetString());
    if (type == "AuditEvent") {  // the server's own audit trail: read and searched, never written
      EXPECT_EQ(codes, (std::set<std::string>{"read", "search-type"}));
      EXPECT_EQ(params, (std::set<std::string>{"patient", "agent", "entity", "date", "type", "subtype", "action", "outcome"}));
      EXPECT_FALSE(resource.HasMember("searchInclude") || resource.HasMember("searchRevInclude"));
      continue;
    }
    EXPECT_EQ(codes, (std::set<std::string>{"read", "vread", "update", "patch", "delete", "create", "history-instance", "history-type", "search-type"}));
    EXPECT_TRUE(params.contains("_id") && params.contains("_lastUpdated")) << type;
    if (type == "Patient") {
      for (const char* name : {"name", "family", "birthdate", "gender", "identifier", "general-practitioner", "address-city"}) {
        EXPECT_TRUE(params.contains(name)) << name;
      }
    }
    if (type == "Observation") {
      EXPECT_TRUE(params.contains("code-value-quantity") && params.contains("component-code-value-quantity"));
    }
    if (type == "MolecularSequence") {
      EXPECT_TRUE(params.contains("chromosome-variant-coordinate") && params.contains("referenceseqid-window-coordinate"));
    }
    std::set<std::string> includes, revincludes;
    for (auto& value : resource["searchInclude"].GetArray()) includes.insert(value.GetString());
    for (auto& value : resource["searchRevInclude"].GetArray()) revincludes.insert(value.GetString());
    EXPECT_TRUE(includes.contains("*") && revincludes.contains("*")) << type;
    if (type == "Observation") {
      EXPECT_TRUE(includes.contains("Observation:subject") && includes.contains("Observation:performer"));
    }
    if (type == "Patient") {
      EXPECT_TRUE(revincludes.contains("Observation:subject") && revincludes.contains("Encounter:patient"));
    }
  }
  std::vector<std::string> system_interactions;
  for (auto& interaction : doc["rest"][0]["interaction"].GetArray()) system_interactions.push_back(interaction["code"].GetString());
  EXPECT_EQ(system_interactions, (std::vector<std::string>{"transaction", "batch", "history-system", "search-system"}));
  EXPECT_TRUE(doc["rest"][0]["resource"][0]["conditionalCreate"].GetBool());
  EXPECT_TRUE(doc["rest"][0]["resource"][0]["conditionalUpdate"].GetBool());
  EXPECT_STREQ(doc["rest"][0]["resource"][0]["conditionalDelete"].GetString(), "single");
  EXPECT_EQ(testing::ToJson(doc["rest"][0]["resource"][0]["referencePolicy"]), R"(["literal","enforced"])");
}

// What the CapabilityStatement lists is what works: every parameter it lists for a type, with a
// well-formed value of its kind, and every _include and _revinclude value, is searched (200)
// under Prefer: handling=strict, where an unsupported one would be 400.
TEST_F(FhirRestTest, EveryListedParameterAndIncludeIsSearchable) {
  const fhir::Definitions& definitions = fhir::Definitions::R4();
  auto value_of = [&](const std::string& kind, const std::string& definition) -> std::string {
    if (kind == "number" || kind == "quantity") return "gt1";
    if (kind == "date") return "ge2020-01";
    if (kind == "reference") return "x";
    if (kind == "uri") return "http://example.org/x";
    if (kind == "composite") {  // a code, then a value of each other component's kind
      const fhir::SearchParameterDefinition* composite = definitions.FindSearchParameter(definition);
      std::string value = "x";
      for (std::size_t i = 1; i < composite->components.size(); ++i) {
        const fhir::SearchParamType type = definitions.FindSearchParameter(composite->components[i].definition)->type;
        value += type == fhir::SearchParamType::kDate                                                  ? "$ge2020"
                 : type == fhir::SearchParamType::kQuantity || type == fhir::SearchParamType::kNumber ? "$gt1"
                 : type == fhir::SearchParamType::kReference                                           ? "$x"
                                                                                                       : "$y";
      }
      return value;
    }
    return "x";  // token, string
  };
  // Twenty at a time (a 400 names the parameter it refuses).
  auto search_all = [&](const std::string& type, const std::vector<std::string>& terms) {
    for (std::size_t i = 0; i < terms.size(); i += 20) {
      std::string path = "/fhir/" + type;
      for (std::size_t j = i; j < std::min(terms.size(), i + 20); ++j) path += (j == i ? "?" : "&") + terms[j];
      HttpResult result = client_.Get(path, {{"Prefer", "handling=strict"}});
      EXPECT_EQ(result.status, 200) << path << ": " << result.body;
    }
  };
  auto doc = ParseJson(client_.Get("/fhir/metadata").body);
  std::size_t searched = 0;
  for (auto& resource : doc["rest"][0]["resource"].GetArray()) {
    const std::string type = resource["type"].GetString();
    std::vector<std::string> terms;
    for (auto& param : resource["searchParam"].GetArray()) {
      terms.push_back(std::string(param["name"].GetString()) + "=" +
                      ck::PercentEncode(value_of(param["type"].GetString(), param["definition"].GetString())));
    }
    searched += terms.size();
    for (const char* list : {"searchInclude", "searchRevInclude"}) {
      if (!resource.HasMember(list)) continue;  // AuditEvent's searches include nothing
      const std::string parameter = std::string(list) == "searchInclude" ? "_include=" : "_revinclude=";
      for (auto& value : resource[list].GetArray()) terms.push_back(parameter + ck::PercentEncode(value.GetString()));
    }
    search_all(type, terms);
  }
  EXPECT_GT(searched, 2000);
}

TEST_F(FhirRestTest, ReportsHealthAndMetrics) {
  HttpResult health = client_.Get("/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  client_.Get("/fhir/Patient/metrics-missing");
  HttpResult metrics = client_.Get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find(R"(chartkeeper_requests_total{interaction="read",status="404"})"), std::string::npos);
  EXPECT_NE(metrics.body.find("chartkeeper_request_duration_seconds_bucket{le=\"+Inf\"}"), std::string::npos);
  EXPECT_NE(metrics.body.find("chartkeeper_database_bytes "), std::string::npos);
  EXPECT_NE(metrics.body.find("chartkeeper_store_commits_total "), std::string::npos);
  EXPECT_NE(metrics.body.find("chartkeeper_store_wal_checkpoints_total "), std::string::npos);
}

}  // namespace
}  // namespace ck
