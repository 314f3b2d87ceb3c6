// Black-box specification of profiles kept on the server: a StructureDefinition stored like any
// resource becomes a profile that meta.profile claims are validated against, at once and after
// a restart; a new version replaces its rules and a delete retires it; one that cannot be built
// is refused; $validate checks against a profile named in its `profile` parameter; and the
// unknown_profiles policy decides what an unheld claim gets.
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

const std::string kProfile = R"({"resourceType":"StructureDefinition","id":"named-patient",
  "url":"http://example.org/StructureDefinition/named-patient","name":"NamedPatient","status":"active","kind":"resource",
  "abstract":false,"type":"Patient","baseDefinition":"http://hl7.org/fhir/StructureDefinition/Patient","derivation":"constraint",
  "differential":{"element":[{"id":"Patient.name","path":"Patient.name","min":1}]}})";

const std::string kClaiming = R"({"resourceType":"Patient","meta":{"profile":["http://example.org/StructureDefinition/named-patient"]}})";
const std::string kNamed =
    R"({"resourceType":"Patient","meta":{"profile":["http://example.org/StructureDefinition/named-patient"]},"name":[{"family":"A"}]})";

// The severities and locations of a $validate answer or a refused write.
std::vector<std::string> Issues(const HttpResult& result) {
  std::vector<std::string> out;
  auto doc = ParseJson(result.body);
  for (const auto& issue : doc["issue"].GetArray()) {
    out.push_back(std::string(issue["severity"].GetString()) + " " + (issue.HasMember("expression") ? issue["expression"][0].GetString() : ""));
  }
  return out;
}

TEST(StoredProfilesTest, AStoredProfileIsEnforcedUntilItIsDeletedAndSurvivesARestart) {
  testing::TempDir dir;
  {
    testing::ServerProcess server(dir.path());
    HttpClient client(server.port());
    // Before the profile is held, a claim of it is only a warning.
    EXPECT_EQ(client.Post("/fhir/Patient", kClaiming).status, 201);
    ASSERT_EQ(client.Put("/fhir/StructureDefinition/named-patient", kProfile).status, 201);
    HttpResult refused = client.Post("/fhir/Patient", kClaiming);
    EXPECT_EQ(refused.status, 422) << refused.body;
    EXPECT_EQ(Issues(refused), std::vector<std::string>{"error Patient"});
    EXPECT_EQ(client.Post("/fhir/Patient", kNamed).status, 201);
  }
  {
    testing::ServerProcess server(dir.path());
    HttpClient client(server.port());
    EXPECT_EQ(client.Post("/fhir/Patient", kClaiming).status, 422) << "the profile is loaded again at start";
    // A new version relaxes it.
    std::string relaxed = kProfile;
    relaxed.replace(relaxed.find(R"("min":1)"), 7, R"("min":0)");
    ASSERT_EQ(client.Put("/fhir/StructureDefinition/named-patient", relaxed).status, 200);
    EXPECT_EQ(client.Post("/fhir/Patient", kClaiming).status, 201);
    // Deleted, it no longer applies; claims of it warn again.
    ASSERT_EQ(client.Put("/fhir/StructureDefinition/named-patient", kProfile).status, 200);
    ASSERT_EQ(client.Delete("/fhir/StructureDefinition/named-patient").status, 204);
    HttpResult warned = client.Post("/fhir/Patient", kClaiming, {{"Prefer", "return=OperationOutcome"}});
    EXPECT_EQ(warned.status, 201) << warned.body;
    EXPECT_NE(warned.body.find("is not known here"), std::string::npos) << warned.body;
  }
}

TEST(StoredProfilesTest, AProfileThatCannotBeBuiltIsRefused) {
  testing::TempDir dir;
  testing::ServerProcess server(dir.path());
  HttpClient client(server.port());
  std::string unknown_base = kProfile;
  unknown_base.replace(unknown_base.find("http://hl7.org/fhir/StructureDefinition/Patient"), 47, "http://example.org/StructureDefinition/nowhere");
  HttpResult refused = client.Put("/fhir/StructureDefinition/named-patient", unknown_base);
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("is not known here"), std::string::npos) << refused.body;
  EXPECT_EQ(client.Get("/fhir/StructureDefinition/named-patient").status, 404);
  // A new type (specialization) is stored, but is no profile.
  std::string specialization = kProfile;
  specialization.replace(specialization.find(R"("derivation":"constraint")"), 25, R"("derivation":"specialization")");
  EXPECT_EQ(client.Put("/fhir/StructureDefinition/named-patient", specialization).status, 201);
  EXPECT_EQ(client.Post("/fhir/Patient", kClaiming).status, 201);
}

TEST(StoredProfilesTest, ValidateChecksANamedProfileAndTheStrictPolicyRefusesUnheldClaims) {
  testing::TempDir dir;
  testing::ServerProcess server(dir.path(), {"--unknown-profiles", "error"});
  HttpClient client(server.port());
  HttpResult strict = client.Post("/fhir/Patient", kClaiming);
  EXPECT_EQ(strict.status, 422) << strict.body;
  ASSERT_EQ(client.Put("/fhir/StructureDefinition/named-patient", kProfile).status, 201);
  const std::string plain = R"({"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">P</div>"}})";
  HttpResult checked = client.Post("/fhir/Patient/$validate?profile=http://example.org/StructureDefinition/named-patient", plain);
  ASSERT_EQ(checked.status, 200) << checked.body;
  EXPECT_EQ(Issues(checked), std::vector<std::string>{"error Patient"});
  HttpResult unknown = client.Post("/fhir/Patient/$validate",
                                   R"({"resourceType":"Parameters","parameter":[{"name":"profile","valueUri":"http://example.org/none"},
                                      {"name":"resource","resource":)" + plain + "}]}");
  ASSERT_EQ(unknown.status, 200) << unknown.body;
  EXPECT_EQ(Issues(unknown), std::vector<std::string>{"error Patient"});
}

}  // namespace
}  // namespace ck
