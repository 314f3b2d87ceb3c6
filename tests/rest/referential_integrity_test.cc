// Referential integrity over HTTP (on by default): a write whose reference names a resource of
// this server that does not exist is refused with 409 naming the element; a delete of a resource
// that current resources refer to is refused with 409 naming up to ten of them. Contained,
// absolute and urn: references are not checked; a transaction's entries may refer to each other
// in any order and may delete a resource with its referrers; with the setting off both pass.
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

std::string Observation(const std::string& subject) {
  return R"({"resourceType":"Observation","status":"final","code":{"text":"weight"},"subject":{"reference":")" + subject + R"("}})";
}

class ReferentialIntegrityTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args = {}) {
    server_ = std::make_unique<testing::ServerProcess>(dir_.path(), std::move(args));
  }
  HttpClient Client() const { return HttpClient(server_->port()); }
  int Count(const std::string& type) { return ParseJson(Client().Get("/fhir/" + type + "?_summary=count").body)["total"].GetInt(); }

  testing::TempDir dir_;
  std::unique_ptr<testing::ServerProcess> server_;
};

TEST_F(ReferentialIntegrityTest, AReferenceToNothingIsRefusedNamingTheElement) {
  Start();
  HttpResult created = Client().Post("/fhir/Observation", Observation("Patient/nobody"));
  EXPECT_EQ(created.status, 409) << created.body;
  auto outcome = ParseJson(created.body);
  EXPECT_EQ(std::string(outcome["issue"][0]["code"].GetString()), "conflict");
  EXPECT_EQ(std::string(outcome["issue"][0]["expression"][0].GetString()), "Observation.subject.reference");
  EXPECT_NE(created.body.find("Patient/nobody"), std::string::npos);
  EXPECT_EQ(Client().Put("/fhir/Observation/o", R"({"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"performer":[{"reference":"Practitioner/a"},{"reference":"Practitioner/none"}]})").status, 409);
  EXPECT_EQ(Count("Observation"), 0);

  ASSERT_EQ(Client().Put("/fhir/Patient/p", R"({"resourceType":"Patient","id":"p"})").status, 201);
  EXPECT_EQ(Client().Put("/fhir/Observation/of-p", R"({"resourceType":"Observation","id":"of-p","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p"}})").status, 201);
  EXPECT_EQ(Client().Post("/fhir/Observation", Observation("Patient/p/_history/1")).status, 201);
  // Not references to resources of this server: not checked.
  EXPECT_EQ(Client().Post("/fhir/Observation", Observation("http://elsewhere.example/fhir/Patient/1")).status, 201);
  EXPECT_EQ(Client().Post("/fhir/Observation", Observation("urn:uuid:0b3c4d5e-0000-4000-8000-000000000001")).status, 201);
  EXPECT_EQ(Client().Post("/fhir/Observation", R"({"resourceType":"Observation","contained":[{"resourceType":"Patient","id":"c"}],"status":"final","code":{"text":"x"},"subject":{"reference":"#c"}})").status, 201);
  // A Patient that refers to itself.
  EXPECT_EQ(Client().Put("/fhir/Patient/self", R"({"resourceType":"Patient","id":"self","link":[{"other":{"reference":"Patient/self"},"type":"seealso"}]})").status, 201);

  ASSERT_EQ(Client().Put("/fhir/Patient/gone", R"({"resourceType":"Patient","id":"gone"})").status, 201);
  ASSERT_EQ(Client().Delete("/fhir/Patient/gone").status, 204);
  EXPECT_EQ(Client().Post("/fhir/Observation", Observation("Patient/gone")).status, 409);
  EXPECT_EQ(Client().Request("PATCH", "/fhir/Observation/of-p", R"([{"op":"replace","path":"/subject/reference","value":"Patient/gone"}])",
                             {{"Content-Type", "application/json-patch+json"}}).status, 409);
}

TEST_F(ReferentialIntegrityTest, ADeleteThatWouldLeaveReferencesDanglingIsRefused) {
  Start({"--max-conditional-deletes", "20"});
  ASSERT_EQ(Client().Put("/fhir/Patient/p", R"({"resourceType":"Patient","id":"p"})").status, 201);
  for (int i = 0; i < 12; ++i) {
    ASSERT_EQ(Client().Put("/fhir/Observation/o" + std::to_string(i), R"({"resourceType":"Observation","id":"o)" + std::to_string(i) +
                                                                          R"(","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p"}})").status, 201);
  }
  HttpResult refused = Client().Delete("/fhir/Patient/p");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("Observation/o"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("and more"), std::string::npos) << refused.body;  // ten named of twelve
  EXPECT_EQ(Client().Get("/fhir/Patient/p").status, 200);
  EXPECT_EQ(Client().Delete("/fhir/Patient?_id=p").status, 409);  // conditionally, too

  // Deleting the referrers and the Patient in one transaction leaves nothing dangling.
  std::string entries;
  for (int i = 0; i < 12; ++i) entries += R"({"request":{"method":"DELETE","url":"Observation/o)" + std::to_string(i) + R"("}},)";
  HttpResult together = Client().Post("/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"DELETE","url":"Patient/p"}},)" +
                                                   entries.substr(0, entries.size() - 1) + "]}");
  EXPECT_EQ(together.status, 200) << together.body;
  EXPECT_EQ(Client().Get("/fhir/Patient/p").status, 410);
}

TEST_F(ReferentialIntegrityTest, TransactionEntriesReferToEachOtherInAnyOrder) {
  Start();
  HttpResult ordered = Client().Post("/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"fullUrl":"urn:uuid:0b3c4d5e-0000-4000-8000-000000000002","resource":)" + Observation("Patient/later") + R"(,"request":{"method":"POST","url":"Observation"}},
      {"resource":{"resourceType":"Patient","id":"later"},"request":{"method":"PUT","url":"Patient/later"}}]})");
  EXPECT_EQ(ordered.status, 200) << ordered.body;
  HttpResult dangling = Client().Post("/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"resource":{"resourceType":"Patient","id":"fine"},"request":{"method":"PUT","url":"Patient/fine"}},
      {"resource":)" + Observation("Patient/missing") + R"(,"request":{"method":"POST","url":"Observation"}}]})");
  EXPECT_EQ(dangling.status, 409) << dangling.body;
  EXPECT_NE(dangling.body.find("entry 1"), std::string::npos) << dangling.body;
  EXPECT_EQ(Client().Get("/fhir/Patient/fine").status, 404);  // all or nothing
  HttpResult batch = Client().Post("/fhir", R"({"resourceType":"Bundle","type":"batch","entry":[
      {"resource":)" + Observation("Patient/missing") + R"(,"request":{"method":"POST","url":"Observation"}},
      {"resource":)" + Observation("Patient/later") + R"(,"request":{"method":"POST","url":"Observation"}}]})");
  ASSERT_EQ(batch.status, 200) << batch.body;
  auto answer = ParseJson(batch.body);
  EXPECT_EQ(std::string(answer["entry"][0]["response"]["status"].GetString()).substr(0, 3), "409");
  EXPECT_EQ(std::string(answer["entry"][1]["response"]["status"].GetString()).substr(0, 3), "201");
}

TEST_F(ReferentialIntegrityTest, TheSettingTurnsBothChecksOff) {
  Start({"--referential-integrity", "false"});
  EXPECT_EQ(Client().Post("/fhir/Observation", Observation("Patient/nobody")).status, 201);
  ASSERT_EQ(Client().Put("/fhir/Patient/p", R"({"resourceType":"Patient","id":"p"})").status, 201);
  ASSERT_EQ(Client().Post("/fhir/Observation", Observation("Patient/p")).status, 201);
  EXPECT_EQ(Client().Delete("/fhir/Patient/p").status, 204);
}

}  // namespace
}  // namespace ck
