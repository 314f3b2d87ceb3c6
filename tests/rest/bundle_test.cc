// Transaction and batch Bundles over HTTP (FHIR R4 http, "Batches and Transactions"): a
// transaction applies all of its entries or none, gives created resources their ids and rewrites
// the references between entries (and links in narratives) to them, resolves conditional
// references, reads after it writes, and answers one entry per request in the request's order;
// a batch answers each entry on its own. Conditional create (If-None-Exist, ifNoneExist)
// creates once, also under 32 clients at once; conditional update and delete act on what their
// search picks, alone or in a transaction.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "cli/input_file.h"
#include "support/http_client.h"
#include "support/json.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace ck {
namespace {

using testing::HttpClient;
using testing::HttpResult;
using testing::ParseJson;

const std::filesystem::path kSynthea = std::filesystem::path(CK_SOURCE_DIR) / ".." / "shared" / "testdata" / "synthea";

std::string Entry(const std::string& full_url, const std::string& method, const std::string& url, const std::string& resource,
                  const std::string& request_extra = "") {
  std::string entry = "{";
  if (!full_url.empty()) entry += R"("fullUrl":")" + full_url + R"(",)";
  if (!resource.empty()) entry += R"("resource":)" + resource + ",";
  return entry + R"("request":{"method":")" + method + R"(","url":")" + url + "\"" + request_extra + "}}";
}

std::string Bundle(const std::string& type, const std::vector<std::string>& entries) {
  std::string bundle = R"({"resourceType":"Bundle","type":")" + type + R"(","entry":[)";
  for (std::size_t i = 0; i < entries.size(); ++i) bundle += (i == 0 ? "" : ",") + entries[i];
  return bundle + "]}";
}

std::string PatientJson(const std::string& family, const std::string& mrn = "") {
  std::string identifier = mrn.empty() ? "" : R"(,"identifier":[{"system":"http://h/mrn","value":")" + mrn + R"("}])";
  return R"({"resourceType":"Patient","name":[{"family":")" + family + "\"}]" + identifier + "}";
}

std::string ObservationJson(const std::string& subject, const std::string& narrative_link = "") {
  std::string text = narrative_link.empty() ? ""
                                            : R"(,"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">of <a href=\")" +
                                                  narrative_link + R"(\">the patient</a></div>"})";
  return R"({"resourceType":"Observation","status":"final","code":{"text":"weight"},"subject":{"reference":")" + subject + "\"}" + text + "}";
}

// The status codes of a response Bundle's entries, in order ("201", "400", ...).
std::vector<std::string> Statuses(const rapidjson::Document& bundle) {
  std::vector<std::string> out;
  for (const auto& entry : bundle["entry"].GetArray()) out.push_back(std::string(entry["response"]["status"].GetString()).substr(0, 3));
  return out;
}

// "Type/id" of a response entry's location.
std::string Located(const rapidjson::Value& entry) {
  std::string location = entry["response"]["location"].GetString();
  location = location.substr(location.find("/fhir/") + 6);
  return location.substr(0, location.find("/_history"));
}

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<testing::TempDir>();
    server_ = std::make_unique<testing::ServerProcess>(dir_->path(), std::vector<std::string>{"--max-bundle-entries", "50", "--max-conditional-deletes", "2"});
  }
  HttpClient Client() const { return HttpClient(server_->port()); }
  HttpResult Post(const std::string& bundle, std::map<std::string, std::string> headers = {}) {
    return Client().Post("/fhir", bundle, std::move(headers));
  }
  int Count(const std::string& type) {
    return ParseJson(Client().Get("/fhir/" + type + "?_summary=count").body)["total"].GetInt();
  }
  // Every version stored, oldest first: what a failed transaction must leave as it was.
  std::string Dump() {
    auto history = ParseJson(Client().Get("/fhir/_history?_count=1000").body);
    return history.HasMember("entry") ? testing::ToJson(history["entry"]) : "";
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<testing::ServerProcess> server_;
};

TEST_F(BundleTest, ATransactionCreatesItsEntriesAndRewritesReferencesToThem) {
  HttpResult result = Post(Bundle("transaction", {
      Entry("urn:uuid:5e1f3b7c-0000-4000-8000-000000000001", "POST", "Patient", PatientJson("Lee")),
      Entry("urn:uuid:5e1f3b7c-0000-4000-8000-000000000002", "POST", "Observation",
            ObservationJson("urn:uuid:5e1f3b7c-0000-4000-8000-000000000001", "urn:uuid:5e1f3b7c-0000-4000-8000-000000000001")),
      Entry("", "PUT", "Patient/chosen", R"({"resourceType":"Patient","id":"chosen","link":[{"other":{"reference":"urn:uuid:5e1f3b7c-0000-4000-8000-000000000001"},"type":"seealso"}]})"),
  }));
  ASSERT_EQ(result.status, 200) << result.body;
  auto bundle = ParseJson(result.body);
  EXPECT_EQ(std::string(bundle["type"].GetString()), "transaction-response");
  EXPECT_EQ(Statuses(bundle), (std::vector<std::string>{"201", "201", "201"}));
  const std::string patient = Located(bundle["entry"][0]);
  EXPECT_TRUE(patient.starts_with("Patient/")) << patient;
  EXPECT_EQ(patient.find("5e1f3b7c"), std::string::npos);  // a new id, not the urn's
  EXPECT_EQ(Located(bundle["entry"][2]), "Patient/chosen");
  EXPECT_EQ(std::string(bundle["entry"][0]["response"]["etag"].GetString()), "W/\"1\"");
  EXPECT_TRUE(bundle["entry"][0]["response"].HasMember("lastModified"));
  EXPECT_EQ(std::string(bundle["entry"][0]["resource"]["resourceType"].GetString()), "Patient");
  auto observation = ParseJson(Client().Get("/fhir/" + Located(bundle["entry"][1])).body);
  EXPECT_EQ(std::string(observation["subject"]["reference"].GetString()), patient);
  EXPECT_NE(std::string(observation["text"]["div"].GetString()).find("href=\"" + patient + "\""), std::string::npos);
  auto chosen = ParseJson(Client().Get("/fhir/Patient/chosen").body);
  EXPECT_EQ(std::string(chosen["link"][0]["other"]["reference"].GetString()), patient);
  // One transaction time for every entry, to the millisecond of meta.lastUpdated.
  EXPECT_EQ(std::string(bundle["entry"][0]["response"]["lastModified"].GetString()),
            std::string(bundle["entry"][2]["response"]["lastModified"].GetString()));
  EXPECT_EQ(std::string(bundle["entry"][0]["response"]["lastModified"].GetString()),
            std::string(bundle["entry"][0]["resource"]["meta"]["lastUpdated"].GetString()));
  // The search index has the rewritten reference.
  EXPECT_EQ(ParseJson(Client().Get("/fhir/Observation?subject=" + patient + "&_summary=count").body)["total"].GetInt(), 1);
}

TEST_F(BundleTest, ATransactionReadsAfterItWritesAndAnswersInRequestOrder) {
  ASSERT_EQ(Client().Put("/fhir/Patient/old", R"({"resourceType":"Patient","id":"old"})").status, 201);
  HttpResult result = Post(Bundle("transaction", {
      Entry("", "GET", "Patient?identifier=http://h/mrn|77&_total=accurate", ""),
      Entry("urn:uuid:5e1f3b7c-0000-4000-8000-000000000003", "POST", "Patient", PatientJson("Kim", "77")),
      Entry("", "DELETE", "Patient/old", ""),
      Entry("", "GET", "Patient/old", ""),
  }), {{"Prefer", "return=minimal"}});
  ASSERT_EQ(result.status, 200) << result.body;
  auto bundle = ParseJson(result.body);
  EXPECT_EQ(Statuses(bundle), (std::vector<std::string>{"200", "201", "204", "410"}));
  EXPECT_EQ(bundle["entry"][0]["resource"]["total"].GetInt(), 1);  // the search sees the POST
  EXPECT_FALSE(bundle["entry"][1].HasMember("resource"));          // return=minimal
  EXPECT_EQ(std::string(bundle["entry"][2]["response"]["etag"].GetString()), "W/\"2\"");
}

// ifNoneMatch and ifModifiedSince are conditional reads (R4 Bundle.entry.request): 304 when the
// client's copy is current.
TEST_F(BundleTest, ReadEntriesHonourIfNoneMatchAndIfModifiedSince) {
  ASSERT_EQ(Client().Put("/fhir/Patient/seen", R"({"resourceType":"Patient","id":"seen"})").status, 201);
  for (const std::string& type : {std::string("transaction"), std::string("batch")}) {
    HttpResult result = Post(Bundle(type, {
        Entry("", "GET", "Patient/seen", "", R"(,"ifNoneMatch":"W/\"1\"")"),
        Entry("", "GET", "Patient/seen", "", R"(,"ifNoneMatch":"W/\"0\"")"),
        Entry("", "GET", "Patient/seen", "", R"(,"ifModifiedSince":"Fri, 01 Jan 2100 00:00:00 GMT")"),
        Entry("", "GET", "Patient/seen", "", R"(,"ifModifiedSince":"Mon, 01 Jan 1990 00:00:00 GMT")"),
    }));
    ASSERT_EQ(result.status, 200) << result.body;
    EXPECT_EQ(Statuses(ParseJson(result.body)), (std::vector<std::string>{"304", "200", "304", "200"})) << type;
  }
}

TEST_F(BundleTest, AFailingEntryLeavesEverythingAsItWas) {
  ASSERT_EQ(Client().Put("/fhir/Patient/keep", R"({"resourceType":"Patient","id":"keep","gender":"male"})").status, 201);
  const std::string before = Dump();
  HttpResult result = Post(Bundle("transaction", {
      Entry("urn:uuid:5e1f3b7c-0000-4000-8000-000000000004", "POST", "Patient", PatientJson("Ann")),
      Entry("", "PUT", "Patient/keep", R"({"resourceType":"Patient","id":"keep","gender":"female"})"),
      Entry("", "DELETE", "Patient/keep2", ""),
  }));
  EXPECT_EQ(result.status, 404) << result.body;  // a DELETE of a resource never stored
  EXPECT_NE(result.body.find("entry 2"), std::string::npos) << result.body;
  result = Post(Bundle("transaction", {
      Entry("urn:uuid:5e1f3b7c-0000-4000-8000-000000000004", "POST", "Patient", PatientJson("Ann")),
      Entry("", "PUT", "Patient/keep", R"({"resourceType":"Patient","id":"keep","gender":"female"})"),
      Entry("urn:uuid:5e1f3b7c-0000-4000-8000-000000000005", "POST", "Observation", R"({"resourceType":"Observation","code":{"text":"x"}})"),
  }));
  EXPECT_EQ(result.status, 422) << result.body;  // Observation.status is required
  EXPECT_NE(result.body.find("entry 2 (urn:uuid:5e1f3b7c-0000-4000-8000-000000000005)"), std::string::npos) << result.body;
  result = Post(Bundle("transaction", {
      Entry("", "PUT", "Patient/keep", R"({"resourceType":"Patient","id":"keep","gender":"female"})", R"(,"ifMatch":"W/\"7\"")"),
  }));
  EXPECT_EQ(result.status, 412) << result.body;
  EXPECT_EQ(Dump(), before);
  EXPECT_EQ(Count("Patient"), 1);
  EXPECT_EQ(Count("Observation"), 0);
}

TEST_F(BundleTest, ABatchAnswersEachEntryOnItsOwn) {
  HttpResult result = Post(Bundle("batch", {
      Entry("", "POST", "Patient", PatientJson("One")),
      Entry("", "POST", "Observation", R"({"resourceType":"Observation","code":{"text":"x"}})"),
      Entry("", "PUT", "Patient/two", R"({"resourceType":"Patient","id":"two"})"),
      Entry("", "GET", "Patient/two", ""),
      Entry("", "GET", "Patient/none", ""),
      Entry("", "DELETE", "Patient/two", ""),
      Entry("", "FETCH", "Patient/two", ""),
      Entry("", "GET", "?_type=Patient&_summary=count", ""),  // a system search
      Entry("", "POST", "/", Bundle("batch", {Entry("", "GET", "Patient", "")})),  // a write must name a type
  }));
  ASSERT_EQ(result.status, 200) << result.body;
  auto bundle = ParseJson(result.body);
  EXPECT_EQ(std::string(bundle["type"].GetString()), "batch-response");
  EXPECT_EQ(Statuses(bundle), (std::vector<std::string>{"201", "422", "201", "200", "404", "204", "400", "200", "404"}));
  EXPECT_EQ(std::string(bundle["entry"][1]["response"]["outcome"]["resourceType"].GetString()), "OperationOutcome");
  EXPECT_EQ(std::string(bundle["entry"][3]["resource"]["id"].GetString()), "two");
  EXPECT_EQ(bundle["entry"][7]["resource"]["total"].GetInt(), 1);  // One: two was deleted by the entry before
  EXPECT_EQ(Count("Patient"), 1);  // One; two was deleted
}

TEST_F(BundleTest, BadBundlesAreRefused) {
  EXPECT_EQ(Post(R"({"resourceType":"Patient"})").status, 400);
  EXPECT_EQ(Post(Bundle("collection", {})).status, 400);
  EXPECT_EQ(Post("{not json").status, 400);
  EXPECT_EQ(Client().Post("/fhir", Bundle("batch", {}), {{"Content-Type", "text/plain"}}).status, 415);
  std::vector<std::string> many(51, Entry("", "GET", "Patient", ""));
  HttpResult too_many = Post(Bundle("batch", many));
  EXPECT_EQ(too_many.status, 413) << too_many.body;
  // A transaction names the entry that is wrong, and why.
  for (const auto& [entry, status] : std::vector<std::pair<std::string, int>>{
           {R"({"resource":{"resourceType":"Patient"}})", 400},                       // no request
           {Entry("", "POST", "Robot", PatientJson("x")), 404},                       // no such type
           {Entry("", "POST", "Observation", PatientJson("x")), 400},                 // url and resource disagree
           {Entry("", "PUT", "Patient/a", R"({"resourceType":"Patient","id":"b"})"), 400},  // ids disagree
           {Entry("", "PUT", "Patient", PatientJson("x")), 400},                      // no id
           {Entry("", "PATCH", "Patient/a", ""), 400},                           // no patch
           {Entry("", "POST", "Observation", ObservationJson("Patient?identifier=http://h/mrn|none")), 404},
       }) {
    HttpResult result = Post(Bundle("transaction", {Entry("", "GET", "Patient", ""), entry}));
    EXPECT_EQ(result.status, status) << entry << ": " << result.body;
    EXPECT_NE(result.body.find("entry 1"), std::string::npos) << result.body;
  }
  // One resource written twice.
  HttpResult twice = Post(Bundle("transaction", {Entry("", "PUT", "Patient/a", R"({"resourceType":"Patient","id":"a"})"),
                                                 Entry("", "PUT", "Patient/a", R"({"resourceType":"Patient","id":"a"})")}));
  EXPECT_EQ(twice.status, 400) << twice.body;
  EXPECT_EQ(Count("Patient"), 0);
}

TEST_F(BundleTest, ConditionalReferencesResolveAgainstTheBundleAndTheDatabase) {
  ASSERT_EQ(Client().Put("/fhir/Patient/stored", R"({"resourceType":"Patient","id":"stored","identifier":[{"system":"http://h/mrn","value":"1"}]})").status, 201);
  HttpResult result = Post(Bundle("transaction", {
      Entry("urn:uuid:5e1f3b7c-0000-4000-8000-000000000006", "POST", "Patient", PatientJson("New", "2")),
      Entry("", "POST", "Observation", ObservationJson("Patient?identifier=http://h/mrn|1")),
      Entry("", "POST", "Observation", ObservationJson("Patient?identifier=http://h/mrn|2")),
  }));
  ASSERT_EQ(result.status, 200) << result.body;
  auto bundle = ParseJson(result.body);
  auto first = ParseJson(Client().Get("/fhir/" + Located(bundle["entry"][1])).body);
  EXPECT_EQ(std::string(first["subject"]["reference"].GetString()), "Patient/stored");
  auto second = ParseJson(Client().Get("/fhir/" + Located(bundle["entry"][2])).body);
  EXPECT_EQ(std::string(second["subject"]["reference"].GetString()), Located(bundle["entry"][0]));
  // Two matches: 412.
  ASSERT_EQ(Client().Put("/fhir/Patient/twin", R"({"resourceType":"Patient","id":"twin","identifier":[{"system":"http://h/mrn","value":"1"}]})").status, 201);
  HttpResult ambiguous = Post(Bundle("transaction", {Entry("", "POST", "Observation", ObservationJson("Patient?identifier=http://h/mrn|1"))}));
  EXPECT_EQ(ambiguous.status, 412) << ambiguous.body;
  // A parameter the type does not have is an error, never ignored (that would match every Patient).
  HttpResult unknown = Post(Bundle("transaction", {Entry("", "POST", "Observation", ObservationJson("Patient?colour=red"))}));
  EXPECT_EQ(unknown.status, 400) << unknown.body;
}

TEST_F(BundleTest, ConditionalCreateCreatesOnce) {
  const std::map<std::string, std::string> condition = {{"If-None-Exist", "identifier=http://h/mrn|9"}};
  HttpResult first = Client().Post("/fhir/Patient", PatientJson("Once", "9"), condition);
  ASSERT_EQ(first.status, 201) << first.body;
  HttpResult again = Client().Post("/fhir/Patient", PatientJson("Once", "9"), condition);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.Header("location"), first.Header("location"));
  EXPECT_EQ(Count("Patient"), 1);
  EXPECT_EQ(Client().Post("/fhir/Patient", PatientJson("Bad"), {{"If-None-Exist", "colour=red"}}).status, 400);
  ASSERT_EQ(Client().Post("/fhir/Patient", PatientJson("Other", "9")).status, 201);
  EXPECT_EQ(Client().Post("/fhir/Patient", PatientJson("Third", "9"), condition).status, 412);  // two match now
  // In a transaction: a match is the entry's answer, and references to the entry point to it.
  HttpResult result = Post(Bundle("transaction", {
      Entry("urn:uuid:5e1f3b7c-0000-4000-8000-000000000007", "POST", "Patient", PatientJson("Once", "10"), R"(,"ifNoneExist":"identifier=http://h/mrn|10")"),
      Entry("", "POST", "Observation", ObservationJson("urn:uuid:5e1f3b7c-0000-4000-8000-000000000007")),
  }));
  ASSERT_EQ(result.status, 200) << result.body;
  const std::string created = Located(ParseJson(result.body)["entry"][0]);
  result = Post(Bundle("transaction", {
      Entry("urn:uuid:5e1f3b7c-0000-4000-8000-000000000008", "POST", "Patient", PatientJson("Once", "10"), R"(,"ifNoneExist":"identifier=http://h/mrn|10")"),
      Entry("", "POST", "Observation", ObservationJson("urn:uuid:5e1f3b7c-0000-4000-8000-000000000008")),
  }));
  ASSERT_EQ(result.status, 200) << result.body;
  auto bundle = ParseJson(result.body);
  EXPECT_EQ(Statuses(bundle), (std::vector<std::string>{"200", "201"}));
  EXPECT_EQ(std::string(bundle["entry"][0]["resource"]["id"].GetString()), created.substr(8));
  auto observation = ParseJson(Client().Get("/fhir/" + Located(bundle["entry"][1])).body);
  EXPECT_EQ(std::string(observation["subject"]["reference"].GetString()), created);
}

TEST_F(BundleTest, ConditionalUpdateUpdatesTheOneMatchOrCreates) {
  HttpResult created = Client().Put("/fhir/Patient?identifier=http://h/mrn|5", PatientJson("First", "5"));
  ASSERT_EQ(created.status, 201) << created.body;
  HttpResult updated = Client().Put("/fhir/Patient?identifier=http://h/mrn|5", PatientJson("Second", "5"));
  ASSERT_EQ(updated.status, 200) << updated.body;
  const std::string location = created.Header("location");
  EXPECT_EQ(updated.Header("location"), location.substr(0, location.find("/_history")) + "/_history/2");
  EXPECT_EQ(std::string(ParseJson(updated.body)["name"][0]["family"].GetString()), "Second");
  // A body whose id is not the match's, an unknown parameter, no search at all: refused.
  EXPECT_EQ(Client().Put("/fhir/Patient?identifier=http://h/mrn|5", R"({"resourceType":"Patient","id":"other"})").status, 400);
  EXPECT_EQ(Client().Put("/fhir/Patient?colour=red", PatientJson("x")).status, 400);
  HttpResult no_search = Client().Put("/fhir/Patient", PatientJson("x"));
  EXPECT_EQ(no_search.status, 405);
  EXPECT_EQ(no_search.Header("allow"), "GET, POST, PUT, PATCH, DELETE");
  ASSERT_EQ(Client().Post("/fhir/Patient", PatientJson("Twin", "5")).status, 201);
  EXPECT_EQ(Client().Put("/fhir/Patient?identifier=http://h/mrn|5", PatientJson("Third", "5")).status, 412);  // two match
  EXPECT_EQ(Count("Patient"), 2);
  // Nothing matches and the body has an id: created with it.
  EXPECT_EQ(Client().Put("/fhir/Patient?identifier=http://h/mrn|6", R"({"resourceType":"Patient","id":"six"})").status, 201);
  EXPECT_EQ(Client().Get("/fhir/Patient/six").status, 200);
}

TEST_F(BundleTest, ConditionalDeleteRemovesTheMatchesUpToTheCap) {
  for (const char* family : {"A", "B", "C"}) ASSERT_EQ(Client().Post("/fhir/Patient", PatientJson(family, "d")).status, 201);
  HttpResult too_many = Client().Delete("/fhir/Patient?identifier=http://h/mrn|d");
  EXPECT_EQ(too_many.status, 412) << too_many.body;  // 3 match; this server deletes at most 2
  EXPECT_NE(too_many.body.find("max_conditional_deletes"), std::string::npos) << too_many.body;
  EXPECT_EQ(Count("Patient"), 3);
  HttpResult two = Client().Delete("/fhir/Patient?identifier=http://h/mrn|d&family=A,B", {{"Prefer", "return=OperationOutcome"}});
  EXPECT_EQ(two.status, 200) << two.body;
  EXPECT_NE(two.body.find("deleted 2 Patient"), std::string::npos) << two.body;
  EXPECT_EQ(Count("Patient"), 1);
  EXPECT_EQ(Client().Delete("/fhir/Patient?identifier=http://h/mrn|nobody").status, 204);
  EXPECT_EQ(Client().Delete("/fhir/Patient?colour=red").status, 400);
  EXPECT_EQ(Client().Delete("/fhir/Patient").status, 405);
}

TEST_F(BundleTest, ATransactionUpdatesAndDeletesConditionally) {
  ASSERT_EQ(Client().Put("/fhir/Patient/known", R"({"resourceType":"Patient","id":"known","identifier":[{"system":"http://h/mrn","value":"k"}]})").status, 201);
  ASSERT_EQ(Client().Put("/fhir/Patient/gone", R"({"resourceType":"Patient","id":"gone","identifier":[{"system":"http://h/mrn","value":"g"}]})").status, 201);
  HttpResult result = Post(Bundle("transaction", {
      Entry("urn:uuid:5e1f3b7c-0000-4000-8000-000000000009", "PUT", "Patient?identifier=http://h/mrn|k", PatientJson("Known", "k")),
      Entry("urn:uuid:5e1f3b7c-0000-4000-8000-00000000000a", "PUT", "Patient?identifier=http://h/mrn|n", PatientJson("Novel", "n")),
      Entry("", "DELETE", "Patient?identifier=http://h/mrn|g", ""),
      Entry("", "POST", "Observation", ObservationJson("urn:uuid:5e1f3b7c-0000-4000-8000-000000000009")),
      Entry("", "POST", "Observation", ObservationJson("urn:uuid:5e1f3b7c-0000-4000-8000-00000000000a")),
  }));
  ASSERT_EQ(result.status, 200) << result.body;
  auto bundle = ParseJson(result.body);
  EXPECT_EQ(Statuses(bundle), (std::vector<std::string>{"200", "201", "204", "201", "201"}));
  EXPECT_EQ(Located(bundle["entry"][0]), "Patient/known");
  auto first = ParseJson(Client().Get("/fhir/" + Located(bundle["entry"][3])).body);
  EXPECT_EQ(std::string(first["subject"]["reference"].GetString()), "Patient/known");
  auto second = ParseJson(Client().Get("/fhir/" + Located(bundle["entry"][4])).body);
  EXPECT_EQ(std::string(second["subject"]["reference"].GetString()), Located(bundle["entry"][1]));
  EXPECT_EQ(Client().Get("/fhir/Patient/gone").status, 410);
  // The body's id must be the match's.
  HttpResult mismatch = Post(Bundle("transaction", {Entry("", "PUT", "Patient?identifier=http://h/mrn|k", R"({"resourceType":"Patient","id":"x"})")}));
  EXPECT_EQ(mismatch.status, 400) << mismatch.body;
}

// The check and the insert are one step in the store's writer: 32 clients sending the same
// conditional create at once make one resource, and the other 31 are answered with it.
TEST_F(BundleTest, ParallelConditionalCreatesMakeOneResource) {
  constexpr int kClients = 32;
  std::vector<HttpResult> results(kClients);
  std::atomic<int> ready{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      HttpClient client = Client();
      client.Get("/fhir/metadata");  // connected before the start
      ++ready;
      while (ready < kClients) std::this_thread::yield();
      results[i] = client.Post("/fhir/Patient", PatientJson("Race", "42"), {{"If-None-Exist", "identifier=http://h/mrn|42"}});
    });
  }
  for (std::thread& client : clients) client.join();
  int created = 0, found = 0;
  std::set<std::string> locations;
  for (const HttpResult& result : results) {
    created += result.status == 201;
    found += result.status == 200;
    locations.insert(result.Header("location"));
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(found, kClients - 1);
  EXPECT_EQ(locations.size(), 1u);
  EXPECT_EQ(Count("Patient"), 1);
}

// The Synthea sample as a hospital would send it: the organization and practitioner batches
// (conditional creates), then a sample of the patients' transaction Bundles, with their
// conditional references to those. Every reference then resolves and the counts are the
// bundles'. (Every patient: `make bench`'s transaction benchmark.)
// The Synthea patient Bundles posted as transactions after the two batches of the organizations
// and practitioners they refer to: per-type counts equal the Bundles', and every Observation's
// subject is the Patient of its own Bundle and every Encounter's serviceProvider the Organization
// its conditional reference names. CI posts the first 6 Bundles; CK_SYNTHEA_BUNDLES=all (or a
// number) posts more (all 100 take about 7 minutes in the debug build).
TEST_F(BundleTest, SyntheaBundlesLoadAsTransactions) {
  std::vector<std::filesystem::path> batches, patients;
  for (const auto& file : std::filesystem::directory_iterator(kSynthea)) {
    if (file.path().extension() != ".bz2") continue;
    (file.path().filename().string().starts_with("0-") ? batches : patients).push_back(file.path());
  }
  std::sort(batches.begin(), batches.end());
  std::sort(patients.begin(), patients.end());
  const char* wanted = std::getenv("CK_SYNTHEA_BUNDLES");
  const std::size_t bundles = wanted == nullptr ? 6 : std::string(wanted) == "all" ? patients.size() : std::stoul(wanted);
  patients.resize(std::min(patients.size(), bundles));
  ASSERT_EQ(batches.size(), 2u);
  auto read = [](const std::filesystem::path& path) {
    auto input = cli::InputFile::Open(path);
    EXPECT_TRUE(input) << path;
    auto text = (*input)->ReadAll();
    EXPECT_TRUE(text) << path;
    return *text;
  };
  auto count = [&](const std::string& search) { return ParseJson(Client().Get("/fhir/" + search + "&_summary=count").body)["total"].GetInt(); };
  // The server's limit (50 entries) is for the other tests: this one runs its own server.
  server_.reset();
  server_ = std::make_unique<testing::ServerProcess>(dir_->path());
  std::map<std::string, std::string> organization_by_identifier;  // Synthea's identifier -> "Organization/<id>"
  for (const auto& path : batches) {
    std::string text = read(path);
    HttpResult result = Post(text, {{"Prefer", "return=minimal"}});
    ASSERT_EQ(result.status, 200) << path;
    auto sent = ParseJson(text);
    auto answer = ParseJson(result.body);
    for (rapidjson::SizeType i = 0; i < sent["entry"].Size(); ++i) {
      ASSERT_EQ(std::string(answer["entry"][i]["response"]["status"].GetString()).substr(0, 3), "201") << path;
      const auto& resource = sent["entry"][i]["resource"];
      if (std::string(resource["resourceType"].GetString()) == "Organization") {
        organization_by_identifier[resource["identifier"][0]["value"].GetString()] = Located(answer["entry"][i]);
      }
    }
  }
  std::map<std::string, int> expected;              // resources per type
  std::map<std::string, int> observations_of;       // "Patient/<id>" -> Observations whose subject it must be
  std::map<std::string, int> encounters_served_by;  // "Organization/<id>" -> Encounters it must serve
  int entries = 0;
  for (const auto& path : patients) {
    std::string text = read(path);
    HttpResult result = Post(text, {{"Prefer", "return=minimal"}});
    ASSERT_EQ(result.status, 200) << path << ": " << result.body.substr(0, 500);
    auto sent = ParseJson(text);
    auto answer = ParseJson(result.body);
    std::map<std::string, std::string> stored_as;  // fullUrl -> "Type/id"
    for (rapidjson::SizeType i = 0; i < sent["entry"].Size(); ++i) stored_as[sent["entry"][i]["fullUrl"].GetString()] = Located(answer["entry"][i]);
    for (const auto& entry : sent["entry"].GetArray()) {
      const auto& resource = entry["resource"];
      const std::string type = resource["resourceType"].GetString();
      ++expected[type];
      if (type == "Observation") ++observations_of[stored_as[resource["subject"]["reference"].GetString()]];
      if (type == "Encounter" && resource.HasMember("serviceProvider")) {
        const std::string reference = resource["serviceProvider"]["reference"].GetString();
        ++encounters_served_by[organization_by_identifier[reference.substr(reference.find('|') + 1)]];
      }
    }
    entries += static_cast<int>(sent["entry"].Size());
  }
  for (const auto& [type, n] : expected) EXPECT_EQ(count(type + "?_id:missing=false"), n) << type;
  for (const auto& [patient, n] : observations_of) EXPECT_EQ(count("Observation?subject=" + patient), n) << patient;
  for (const auto& [organization, n] : encounters_served_by) {
    EXPECT_TRUE(organization.starts_with("Organization/")) << "an Encounter's serviceProvider names no Organization of the batches";
    EXPECT_EQ(count("Encounter?service-provider=" + organization), n) << organization;
  }
  // Nothing is left as a urn or a conditional reference.
  for (const auto& [type, element] : std::vector<std::pair<std::string, std::string>>{
           {"Observation", "subject"}, {"Encounter", "serviceProvider"}, {"Encounter", "participant"}}) {
    HttpResult page = Client().Get("/fhir/" + type + "?_count=1000&_elements=" + element);
    EXPECT_EQ(page.body.find("urn:uuid"), std::string::npos) << type;
    EXPECT_EQ(page.body.find("?identifier"), std::string::npos) << type;
  }
  std::printf("synthea: %zu patient bundles, %d entries, as transactions; %zu patients' observations and %zu organizations' encounters checked\n",
              patients.size(), entries, observations_of.size(), encounters_served_by.size());
}

}  // namespace
}  // namespace ck
