// PATCH over HTTP (FHIR R4 http, "patch"): JSON Patch (application/json-patch+json) and FHIRPath
// Patch (a Parameters resource) on one resource, on the one match of a search, and inside
// transaction and batch Bundles. A patched resource is validated and versioned like any update;
// If-Match is honoured; a patch that is malformed, cannot apply or leaves an invalid resource
// changes nothing; parallel patches without If-Match lose no update.
#include <gtest/gtest.h>

#include <boost/beast/core/detail/base64.hpp>

#include <atomic>
#include <thread>

#include "support/http_client.h"
#include "support/json.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace ck {
namespace {

using testing::HttpClient;
using testing::HttpResult;
using testing::ParseJson;

const std::map<std::string, std::string> kJsonPatch = {{"Content-Type", "application/json-patch+json"}};

std::string Base64(const std::string& text) {
  std::string out(boost::beast::detail::base64::encoded_size(text.size()), '\0');
  out.resize(boost::beast::detail::base64::encode(out.data(), text.data(), text.size()));
  return out;
}

std::string FhirPathPatch(const std::string& parts) {
  return R"({"resourceType":"Parameters","parameter":[{"name":"operation","part":[)" + parts + "]}]}";
}

class PatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<testing::TempDir>();
    server_ = std::make_unique<testing::ServerProcess>(dir_->path());
    HttpResult created = Client().Put("/fhir/Patient/ada", R"({"resourceType":"Patient","id":"ada","identifier":[{"system":"http://h/mrn","value":"1"}],"name":[{"family":"Byron","given":["Ada"]}],"birthDate":"1815-12-10"})");
    ASSERT_EQ(created.status, 201) << created.body;
  }
  HttpClient Client() const { return HttpClient(server_->port()); }
  HttpResult Patch(const std::string& target, const std::string& body, std::map<std::string, std::string> headers = kJsonPatch) {
    return Client().Request("PATCH", target, body, std::move(headers));
  }
  rapidjson::Document Ada() { return ParseJson(Client().Get("/fhir/Patient/ada").body); }
  int Versions() { return static_cast<int>(ParseJson(Client().Get("/fhir/Patient/ada/_history").body)["entry"].Size()); }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<testing::ServerProcess> server_;
};

TEST_F(PatchTest, AJsonPatchStoresANewVersionThatSearchFinds) {
  HttpResult patched = Patch("/fhir/Patient/ada", R"([{"op":"test","path":"/name/0/family","value":"Byron"},
      {"op":"replace","path":"/name/0/family","value":"Lovelace"},{"op":"add","path":"/name/0/given/-","value":"Augusta"}])");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.Header("etag"), "W/\"2\"");
  auto body = ParseJson(patched.body);
  EXPECT_EQ(std::string(body["name"][0]["family"].GetString()), "Lovelace");
  EXPECT_EQ(body["name"][0]["given"].Size(), 2u);
  EXPECT_EQ(std::string(body["meta"]["versionId"].GetString()), "2");
  EXPECT_EQ(Versions(), 2);
  auto found = ParseJson(Client().Get("/fhir/Patient?family=lovelace&_summary=count").body);
  EXPECT_EQ(found["total"].GetInt(), 1);
  EXPECT_EQ(ParseJson(Client().Get("/fhir/Patient?family=byron&_summary=count").body)["total"].GetInt(), 0);
}

TEST_F(PatchTest, AFhirPathPatchWorksAndIfMatchIsHonoured) {
  const std::string add_gender = FhirPathPatch(R"({"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient"},
      {"name":"name","valueString":"gender"},{"name":"value","valueCode":"female"})");
  HttpResult stale = Patch("/fhir/Patient/ada", add_gender, {{"Content-Type", "application/fhir+json"}, {"If-Match", "W/\"7\""}});
  EXPECT_EQ(stale.status, 412) << stale.body;
  HttpResult patched = Patch("/fhir/Patient/ada", add_gender, {{"Content-Type", "application/fhir+json"}, {"If-Match", "W/\"1\""}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(std::string(Ada()["gender"].GetString()), "female");
  EXPECT_EQ(ParseJson(Client().Get("/fhir/Patient?gender=female&_summary=count").body)["total"].GetInt(), 1);
  HttpResult minimal = Patch("/fhir/Patient/ada", R"([{"op":"remove","path":"/gender"}])",
                             {{"Content-Type", "application/json-patch+json"}, {"Prefer", "return=minimal"}});
  EXPECT_EQ(minimal.status, 200);
  EXPECT_TRUE(minimal.body.empty());
  EXPECT_FALSE(Ada().HasMember("gender"));
}

TEST_F(PatchTest, BadPatchesGetTheirStatusAndChangeNothing) {
  const std::string before = Client().Get("/fhir/Patient/ada").body;
  struct Case {
    std::string body;
    std::map<std::string, std::string> headers;
    int status;
  };
  const std::map<std::string, std::string> fhir_json = {{"Content-Type", "application/fhir+json"}};
  const Case cases[] = {
      {"[{\"op\":\"add\"", kJsonPatch, 400},                                                  // not JSON
      {R"({"op":"add","path":"/gender","value":"male"})", kJsonPatch, 400},                   // not an array
      {R"([{"op":"frobnicate","path":"/gender"}])", kJsonPatch, 400},                         // unknown op
      {R"([{"op":"remove","path":"/telecom"}])", kJsonPatch, 422},                            // nothing there
      {R"([{"op":"test","path":"/birthDate","value":"1900-01-01"}])", kJsonPatch, 422},      // a failing test
      {R"([{"op":"add","path":"/colour","value":"red"}])", kJsonPatch, 422},                  // not a Patient element
      {R"([{"op":"replace","path":"/birthDate","value":"last tuesday"}])", kJsonPatch, 422},  // not a date
      {R"([{"op":"replace","path":"/id","value":"grace"}])", kJsonPatch, 422},                // another id
      {R"([{"op":"replace","path":"/resourceType","value":"Group"}])", kJsonPatch, 422},      // another type
      {R"([{"op":"add","path":"/name","value":[]}])", kJsonPatch, 422},                       // an empty list
      {R"([{"op":"remove","path":"/gender"}])", {{"Content-Type", "text/plain"}}, 415},
      {FhirPathPatch(R"({"name":"type","valueCode":"explode"},{"name":"path","valueString":"Patient"})"), fhir_json, 400},
      {FhirPathPatch(R"({"name":"type","valueCode":"replace"},{"name":"path","valueString":"Patient.gender"},{"name":"value","valueCode":"male"})"),
       fhir_json, 422},
      {R"({"resourceType":"Patient"})", fhir_json, 400},  // not a Parameters
  };
  for (const Case& c : cases) {
    HttpResult result = Patch("/fhir/Patient/ada", c.body, c.headers);
    EXPECT_EQ(result.status, c.status) << c.body << "\n" << result.body;
    if (result.status >= 400) {
      EXPECT_EQ(std::string(ParseJson(result.body)["resourceType"].GetString()), "OperationOutcome") << result.body;
    }
  }
  EXPECT_EQ(Patch("/fhir/Patient/nobody", R"([{"op":"remove","path":"/gender"}])").status, 404);
  EXPECT_EQ(Patch("/fhir/Nonsense/ada", R"([{"op":"remove","path":"/gender"}])").status, 404);
  EXPECT_EQ(Client().Get("/fhir/Patient/ada").body, before);
  EXPECT_EQ(Versions(), 1);
  ASSERT_EQ(Client().Delete("/fhir/Patient/ada").status, 204);
  EXPECT_EQ(Patch("/fhir/Patient/ada", R"([{"op":"add","path":"/gender","value":"male"}])").status, 410);
}

// Each operation may cost the resource's size: many operations on a large resource are refused
// before any is applied.
TEST_F(PatchTest, ManyOperationsOnALargeResourceAreTooCostly) {
  // Three strings of 800 KB (FHIR caps one string at 1 MB).
  const std::string part = R"({"url":"http://example.org/filler","valueString":")" + std::string(800u << 10, 'x') + R"("})";
  const std::string big = R"({"resourceType":"Basic","id":"big","extension":[)" + part + "," + part + "," + part + R"(],"code":{"text":"big"}})";
  ASSERT_EQ(Client().Put("/fhir/Basic/big", big).status, 201);
  std::string operations = "[";
  for (int i = 0; i < 600; ++i) operations += std::string(i ? "," : "") + R"({"op":"test","path":"/id","value":"big"})";
  operations += "]";
  HttpResult refused = Patch("/fhir/Basic/big", operations);
  EXPECT_EQ(refused.status, 400) << refused.body.substr(0, 300);
  EXPECT_NE(refused.body.find("too-costly"), std::string::npos) << refused.body.substr(0, 300);
  EXPECT_EQ(Patch("/fhir/Basic/big", R"([{"op":"test","path":"/id","value":"big"}])").status, 200);
}

TEST_F(PatchTest, AConditionalPatchChangesTheOneMatch) {
  HttpResult patched = Patch("/fhir/Patient?identifier=http://h/mrn|1", R"([{"op":"add","path":"/gender","value":"other"}])");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(std::string(Ada()["gender"].GetString()), "other");
  EXPECT_EQ(Patch("/fhir/Patient?identifier=http://h/mrn|2", R"([{"op":"remove","path":"/gender"}])").status, 404);
  ASSERT_EQ(Client().Post("/fhir/Patient", R"({"resourceType":"Patient","identifier":[{"system":"http://h/mrn","value":"1"}]})").status, 201);
  EXPECT_EQ(Patch("/fhir/Patient?identifier=http://h/mrn|1", R"([{"op":"remove","path":"/gender"}])").status, 412);
  EXPECT_EQ(Patch("/fhir/Patient?colour=red", R"([{"op":"remove","path":"/gender"}])").status, 400);
  HttpResult no_search = Patch("/fhir/Patient", R"([{"op":"remove","path":"/gender"}])");
  EXPECT_EQ(no_search.status, 405);
  EXPECT_NE(no_search.Header("allow").find("PATCH"), std::string::npos);
  EXPECT_EQ(std::string(Ada()["gender"].GetString()), "other");
}

TEST_F(PatchTest, BundlesCarryPatchesAsBinaryOrParameters) {
  const std::string json_patch = Base64(R"([{"op":"replace","path":"/birthDate","value":"1815-12-11"}])");
  const std::string transaction = R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"fullUrl":"urn:uuid:9a0c7a52-0000-4000-8000-000000000001","resource":{"resourceType":"Practitioner","name":[{"family":"Babbage"}]},"request":{"method":"POST","url":"Practitioner"}},
      {"resource":{"resourceType":"Binary","contentType":"application/json-patch+json","data":")" + json_patch + R"("},"request":{"method":"PATCH","url":"Patient/ada"}},
      {"resource":)" + FhirPathPatch(R"({"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient"},{"name":"name","valueString":"generalPractitioner"},
          {"name":"value","valueReference":{"reference":"urn:uuid:9a0c7a52-0000-4000-8000-000000000001"}})") + R"(,"request":{"method":"PATCH","url":"Patient?identifier=http://h/mrn|1"}}]})";
  // Two patches of one resource in one transaction are refused: each is planned from the version stored.
  HttpResult refused = Client().Post("/fhir", transaction);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(Versions(), 1);
  const std::string one_patch = R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"fullUrl":"urn:uuid:9a0c7a52-0000-4000-8000-000000000001","resource":{"resourceType":"Practitioner","name":[{"family":"Babbage"}]},"request":{"method":"POST","url":"Practitioner"}},
      {"resource":)" + FhirPathPatch(R"({"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient"},{"name":"name","valueString":"generalPractitioner"},
          {"name":"value","valueReference":{"reference":"urn:uuid:9a0c7a52-0000-4000-8000-000000000001"}})") + R"(,"request":{"method":"PATCH","url":"Patient?identifier=http://h/mrn|1"}}]})";
  HttpResult applied = Client().Post("/fhir", one_patch);
  ASSERT_EQ(applied.status, 200) << applied.body;
  auto response = ParseJson(applied.body);
  EXPECT_EQ(std::string(response["entry"][1]["response"]["status"].GetString()).substr(0, 3), "200");
  std::string practitioner = ParseJson(Client().Get("/fhir/Practitioner").body)["entry"][0]["resource"]["id"].GetString();
  EXPECT_EQ(std::string(Ada()["generalPractitioner"][0]["reference"].GetString()), "Practitioner/" + practitioner);

  // A transaction whose patch cannot apply stores nothing.
  const std::string failing = R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"resource":{"resourceType":"Patient","name":[{"family":"New"}]},"request":{"method":"POST","url":"Patient"}},
      {"resource":{"resourceType":"Binary","contentType":"application/json-patch+json","data":")" +
                              Base64(R"([{"op":"test","path":"/birthDate","value":"2000-01-01"}])") + R"("},"request":{"method":"PATCH","url":"Patient/ada"}}]})";
  HttpResult failed = Client().Post("/fhir", failing);
  EXPECT_EQ(failed.status, 422) << failed.body;
  EXPECT_NE(failed.body.find("entry 1"), std::string::npos) << failed.body;
  EXPECT_EQ(ParseJson(Client().Get("/fhir/Patient?_summary=count").body)["total"].GetInt(), 1);

  // In a batch each patch stands alone.
  const std::string batch = R"({"resourceType":"Bundle","type":"batch","entry":[
      {"resource":{"resourceType":"Binary","contentType":"application/json-patch+json","data":")" + json_patch + R"("},"request":{"method":"PATCH","url":"Patient/ada"}},
      {"resource":{"resourceType":"Binary","contentType":"text/plain","data":")" + json_patch + R"("},"request":{"method":"PATCH","url":"Patient/ada"}},
      {"resource":{"resourceType":"Patient"},"request":{"method":"PATCH","url":"Patient/ada"}},
      {"resource":{"resourceType":"Binary","contentType":"application/json-patch+json","data":")" + json_patch + R"("},"request":{"method":"PATCH","url":"Patient/nobody"}}]})";
  HttpResult answered = Client().Post("/fhir", batch);
  ASSERT_EQ(answered.status, 200) << answered.body;
  std::vector<std::string> statuses;
  auto answer = ParseJson(answered.body);
  for (const auto& entry : answer["entry"].GetArray()) statuses.push_back(std::string(entry["response"]["status"].GetString()).substr(0, 3));
  EXPECT_EQ(statuses, (std::vector<std::string>{"200", "400", "400", "404"}));
  EXPECT_EQ(std::string(Ada()["birthDate"].GetString()), "1815-12-11");
}

TEST_F(PatchTest, ParallelPatchesWithoutIfMatchLoseNoUpdate) {
  constexpr int kClients = 8;
  std::atomic<int> applied{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      HttpResult result = Patch("/fhir/Patient/ada", R"([{"op":"add","path":"/name/0/given/-","value":"G)" + std::to_string(i) + "\"}]");
      if (result.status == 200) {
        ++applied;
      } else {
        EXPECT_EQ(result.status, 409) << result.body;  // it kept losing the race; nothing was written for it
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_GE(applied.load(), 1);
  EXPECT_EQ(static_cast<int>(Ada()["name"][0]["given"].Size()), 1 + applied.load());
  EXPECT_EQ(Versions(), 1 + applied.load());
}

}  // namespace
}  // namespace ck
