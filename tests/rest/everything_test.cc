// $everything: Patient/[id]/$everything and Patient/$everything (R4), Encounter/[id]/$everything
// (later FHIR versions). On hand-made data: the compartment's resources and those outside it
// that they refer to, each once, across pages; _type, _since and _count; nothing of another
// patient; errors for a bad parameter, an unknown or deleted patient, another resource type. On
// Synthea: exactly the patient's compartment (by the R4 CompartmentDefinition, evaluated here on
// every stored resource) plus the resources its members refer to.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "fhir/definitions.h"
#include "fhir/json_reader.h"
#include "fhirpath/expression.h"
#include "support/chartkeeper_command.h"
#include "util/text.h"
#include "support/http_client.h"
#include "support/json.h"
#include "support/put_resource.h"
#include "support/search_pages.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace ck {
namespace {

using testing::HttpClient;
using testing::HttpResult;
using testing::ParseJson;

// What a walk through every page of an $everything found: "Type/id" in the order returned.
struct Walk {
  std::vector<std::string> found;
  std::size_t pages = 0;
  int status = 200;
  std::string body;  // the first response that was not 200
};

Walk WalkEverything(HttpClient& client, std::string path) {
  Walk walk;
  while (!path.empty()) {
    HttpResult result = client.Get(path);
    if (result.status != 200) {
      walk.status = result.status;
      walk.body = result.body;
      return walk;
    }
    ++walk.pages;
    auto bundle = ParseJson(result.body);
    EXPECT_STREQ(bundle["type"].GetString(), "searchset");
    if (bundle.HasMember("entry")) {
      for (const auto& entry : bundle["entry"].GetArray()) {
        walk.found.push_back(std::string(entry["resource"]["resourceType"].GetString()) + "/" + entry["resource"]["id"].GetString());
      }
    }
    path = testing::BundleLink(bundle, "next");
  }
  return walk;
}

std::set<std::string> AsSet(const std::vector<std::string>& found) { return {found.begin(), found.end()}; }

class EverythingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    server_ = new testing::ServerProcess(dir_->path());
    HttpClient client(server_->port());
    const char* resources[] = {
        R"({"resourceType":"Organization","id":"org1","name":"General Hospital"})",
        R"({"resourceType":"Organization","id":"org2","name":"Riverside Clinic"})",
        R"({"resourceType":"Organization","id":"org3","name":"Nobody's"})",
        R"({"resourceType":"Practitioner","id":"pr1","name":[{"family":"Jones"}]})",
        R"({"resourceType":"Practitioner","id":"pr2","name":[{"family":"Garcia"}]})",
        R"({"resourceType":"Location","id":"l1","name":"East Wing","managingOrganization":{"reference":"Organization/org3"}})",
        R"({"resourceType":"Medication","id":"m1","code":{"text":"aspirin"}})",
        R"({"resourceType":"Patient","id":"pa","name":[{"family":"Peterson"}],"generalPractitioner":[{"reference":"Practitioner/pr1"}],"managingOrganization":{"reference":"Organization/org1"}})",
        R"({"resourceType":"Patient","id":"pb","name":[{"family":"Brown"}],"generalPractitioner":[{"reference":"Practitioner/pr2"}]})",
        R"({"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/pa"},"serviceProvider":{"reference":"Organization/org1"},"location":[{"location":{"reference":"Location/l1"}}]})",
        R"({"resourceType":"Encounter","id":"e2","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/pb"},"serviceProvider":{"reference":"Organization/org2"}})",
        R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"a"},"subject":{"reference":"Patient/pa"},"encounter":{"reference":"Encounter/e1"},"performer":[{"reference":"Practitioner/pr1"}]})",
        R"({"resourceType":"Observation","id":"o2","status":"final","code":{"text":"b"},"subject":{"reference":"Patient/pa"}})",
        R"({"resourceType":"Observation","id":"o3","status":"final","code":{"text":"c"},"subject":{"reference":"Patient/pb"},"encounter":{"reference":"Encounter/e2"}})",
        R"({"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order","medicationReference":{"reference":"Medication/m1"},"subject":{"reference":"Patient/pa"}})",
        R"({"resourceType":"Condition","id":"c1","code":{"text":"x"},"subject":{"reference":"Patient/pa"},"encounter":{"reference":"Encounter/e1"}})",
        R"({"resourceType":"Condition","id":"c2","code":{"text":"y"},"subject":{"reference":"Patient/pa"}})",
    };
    for (const char* body : resources) {
      HttpResult put = testing::PutResource(client, body);
      ASSERT_LT(put.status, 300) << put.body;
    }
    // Deleted: its reference no longer brings anything.
    const char* deleted = R"({"resourceType":"Observation","id":"o4","status":"final","code":{"text":"d"},"subject":{"reference":"Patient/pa"},"performer":[{"reference":"Practitioner/pr2"}]})";
    ASSERT_LT(client.Put("/fhir/Observation/o4", deleted).status, 300);
    ASSERT_EQ(client.Request("DELETE", "/fhir/Observation/o4").status / 100, 2);
    ASSERT_LT(client.Put("/fhir/Patient/gone", R"({"resourceType":"Patient","id":"gone"})").status, 300);
    ASSERT_EQ(client.Request("DELETE", "/fhir/Patient/gone").status / 100, 2);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  static Walk Everything(const std::string& path) {
    HttpClient client(server_->port());
    return WalkEverything(client, "/fhir/" + path);
  }

  static testing::TempDir* dir_;
  static testing::ServerProcess* server_;
};

testing::TempDir* EverythingTest::dir_ = nullptr;
testing::ServerProcess* EverythingTest::server_ = nullptr;

const std::set<std::string> kEverythingOfPa = {
    "Patient/pa",        "Condition/c1",   "Condition/c2",      "Encounter/e1",    "MedicationRequest/mr1",
    "Observation/o1",    "Observation/o2", "Location/l1",       "Medication/m1",   "Organization/org1",
    "Practitioner/pr1",
};

TEST_F(EverythingTest, APatientsEverythingIsItsCompartmentAndWhatItRefersToEachOnce) {
  Walk walk = Everything("Patient/pa/$everything");
  ASSERT_EQ(walk.status, 200) << walk.body;
  EXPECT_EQ(AsSet(walk.found), kEverythingOfPa);
  EXPECT_EQ(walk.found.size(), kEverythingOfPa.size()) << "org1 is referred to three times and pr1 twice, yet each comes once";
  EXPECT_EQ(walk.found.front(), "Patient/pa");
}

TEST_F(EverythingTest, SmallPagesReturnTheSameResourcesEachOnce) {
  for (int count : {1, 2, 3, 5}) {
    Walk walk = Everything("Patient/pa/$everything?_count=" + std::to_string(count));
    ASSERT_EQ(walk.status, 200) << walk.body;
    EXPECT_EQ(AsSet(walk.found), kEverythingOfPa) << "_count=" << count;
    EXPECT_EQ(walk.found.size(), kEverythingOfPa.size()) << "_count=" << count;
    EXPECT_GE(walk.pages, kEverythingOfPa.size() / count) << "_count=" << count;
  }
}

// The walk searches only the types that can have a match (ResourceStore::Reach), yet the part a
// cursor names is searched even when its last resource went between two pages.
TEST_F(EverythingTest, APageContinuesAfterItsPartLostItsLastResource) {
  HttpClient client(server_->port());
  for (const char* body : {R"({"resourceType":"Patient","id":"pc"})",
                           R"({"resourceType":"Condition","id":"c3","code":{"text":"z"},"subject":{"reference":"Patient/pc"}})",
                           R"({"resourceType":"Observation","id":"o5","status":"final","code":{"text":"e"},"subject":{"reference":"Patient/pc"}})"}) {
    HttpResult put = testing::PutResource(client, body);
    ASSERT_LT(put.status, 300) << put.body;
  }
  HttpResult first = client.Get("/fhir/Patient/pc/$everything?_count=1");
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string next = testing::BundleLink(ParseJson(first.body), "next");
  EXPECT_NE(next.find("_cursor=Condition"), std::string::npos) << next;
  ASSERT_EQ(client.Request("DELETE", "/fhir/Condition/c3").status / 100, 2);
  Walk rest = WalkEverything(client, next);
  EXPECT_EQ(rest.status, 200) << rest.body;
  EXPECT_EQ(rest.found, (std::vector<std::string>{"Observation/o5"}));
  for (const char* gone : {"/fhir/Observation/o5", "/fhir/Patient/pc"}) EXPECT_EQ(client.Request("DELETE", gone).status / 100, 2);
}

TEST_F(EverythingTest, TypeKeepsOnlyTheTypesNamed) {
  Walk walk = Everything("Patient/pa/$everything?_type=Observation,Organization");
  ASSERT_EQ(walk.status, 200) << walk.body;
  EXPECT_EQ(AsSet(walk.found), (std::set<std::string>{"Observation/o1", "Observation/o2", "Organization/org1"}));
}

TEST_F(EverythingTest, SinceKeepsOnlyWhatChangedSince) {
  HttpClient client(server_->port());
  HttpResult before = client.Get("/fhir/Condition/c2");
  ASSERT_EQ(before.status, 200);
  // After every write of the suite's set-up: a new version of c2 and nothing else.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  HttpResult marker = client.Put("/fhir/Condition/c2", R"({"resourceType":"Condition","id":"c2","code":{"text":"y2"},"subject":{"reference":"Patient/pa"}})");
  ASSERT_EQ(marker.status, 200) << marker.body;
  const std::string since = ParseJson(marker.body)["meta"]["lastUpdated"].GetString();
  Walk walk = Everything("Patient/pa/$everything?_since=" + PercentEncode(since));
  ASSERT_EQ(walk.status, 200) << walk.body;
  EXPECT_EQ(AsSet(walk.found), (std::set<std::string>{"Condition/c2"}));
}

TEST_F(EverythingTest, AnEncountersEverythingIsItsCompartmentWithThePatient) {
  Walk walk = Everything("Encounter/e1/$everything");
  ASSERT_EQ(walk.status, 200) << walk.body;
  EXPECT_EQ(AsSet(walk.found), (std::set<std::string>{"Encounter/e1", "Observation/o1", "Condition/c1", "Patient/pa",
                                                      "Organization/org1", "Location/l1", "Practitioner/pr1"}));
  EXPECT_EQ(walk.found.front(), "Encounter/e1");
}

TEST_F(EverythingTest, EveryPatientsEverythingHasEachResourceOnce) {
  Walk walk = Everything("Patient/$everything?_count=4");
  ASSERT_EQ(walk.status, 200) << walk.body;
  std::set<std::string> expected = kEverythingOfPa;
  for (const char* of_pb : {"Patient/pb", "Encounter/e2", "Observation/o3", "Organization/org2", "Practitioner/pr2"}) expected.insert(of_pb);
  EXPECT_EQ(AsSet(walk.found), expected);
  EXPECT_EQ(walk.found.size(), expected.size());
}

TEST_F(EverythingTest, BadRequestsAreRefusedWithAnOperationOutcome) {
  HttpClient client(server_->port());
  struct Case {
    std::string path;
    int status;
    std::string says;
  };
  const Case cases[] = {
      {"/fhir/Patient/nobody/$everything", 404, "nobody"},
      {"/fhir/Patient/gone/$everything", 410, "gone"},
      {"/fhir/Observation/o1/$everything", 404, "Patient and Encounter"},
      {"/fhir/Encounter/$everything", 400, "needs an id"},
      {"/fhir/Patient/pa/$everything?_since=yesterday", 400, "_since"},
      {"/fhir/Patient/pa/$everything?_since=2024-01-01", 400, "_since"},
      {"/fhir/Patient/pa/$everything?_type=Nonsense", 404, "Nonsense"},
      {"/fhir/Patient/pa/$everything?_count=many", 400, "_count"},
      {"/fhir/Patient/pa/$everything?start=2024", 400, "start"},
      {"/fhir/Patient/pa/$everything?_cursor=Nonsense/1", 400, "_cursor"},
  };
  for (const Case& c : cases) {
    HttpResult result = client.Get(c.path);
    EXPECT_EQ(result.status, c.status) << c.path << ": " << result.body;
    EXPECT_NE(result.body.find("OperationOutcome"), std::string::npos) << c.path;
    EXPECT_NE(result.body.find(c.says), std::string::npos) << c.path << ": " << result.body;
  }
  HttpResult post = client.Post("/fhir/Patient/pa/$everything", R"({"resourceType":"Parameters"})");
  EXPECT_EQ(post.status, 405) << post.body;
}

// Synthea: two patients with the hospitals and practitioners they refer to. The expected answer
// is computed here from the stored resources: the members of the patient's compartment by the
// R4 CompartmentDefinition's parameters (their FHIRPath expressions evaluated on each
// resource), and every resource outside the compartment that the patient or a member refers to.
class EverythingSyntheaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    const std::filesystem::path synthea = std::filesystem::path(CK_SOURCE_DIR) / ".." / "shared" / "testdata" / "synthea";
    std::vector<std::string> files = {(synthea / "0-hospitalInformation1625911868739.json.bz2").string(),
                                      (synthea / "0-practitionerInformation1625911868739.json.bz2").string()};
    std::vector<std::filesystem::path> patients;
    for (const auto& entry : std::filesystem::directory_iterator(synthea)) {
      if (!entry.path().filename().string().starts_with("0-")) patients.push_back(entry.path());
    }
    std::sort(patients.begin(), patients.end());
    for (std::size_t i = 0; i < 2; ++i) files.push_back(patients[i].string());
    auto imported = testing::RunChartkeeper("import", dir_->path() / "data", files);
    ASSERT_EQ(imported.exit_code, 0) << imported.output;
    server_ = new testing::ServerProcess(dir_->path() / "data");
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  static testing::TempDir* dir_;
  static testing::ServerProcess* server_;
};

testing::TempDir* EverythingSyntheaTest::dir_ = nullptr;
testing::ServerProcess* EverythingSyntheaTest::server_ = nullptr;

// The literal references ("Type/id") among the values of `expression` on `resource`.
void CollectReferences(const fhirpath::Collection& values, std::set<std::string>& out) {
  for (const fhirpath::Value& value : values) {
    if (!value.IsElement() || value.node == nullptr) continue;
    std::string reference(value.node->TextOf("reference"));
    if (!reference.empty() && reference[0] != '#' && reference.find(':') == std::string::npos) out.insert(reference);
  }
}

// Every literal reference anywhere in a resource's JSON.
void AllReferences(const fhir::Node& node, std::set<std::string>& out) {
  for (const fhir::Property& property : node.properties) {
    for (const fhir::Node& value : property.values) {
      if (property.name == "reference" && value.kind == fhir::JsonKind::kString && !value.text.empty() && value.text[0] != '#' &&
          value.text.find(':') == std::string::npos) {
        out.insert(value.text);
      }
      AllReferences(value, out);
    }
  }
}

TEST_F(EverythingSyntheaTest, APatientsEverythingIsExactlyItsCompartmentAndWhatItRefersTo) {
  const fhir::Definitions& definitions = fhir::Definitions::R4();
  HttpClient client(server_->port());
  // Every stored resource, by a system search through every page.
  std::map<std::string, fhir::Resource> stored;
  std::string path = "/fhir?_count=1000";
  while (!path.empty()) {
    HttpResult result = client.Get(path);
    ASSERT_EQ(result.status, 200) << result.body;
    auto bundle = ParseJson(result.body);
    for (const auto& entry : bundle["entry"].GetArray()) {
      auto resource = fhir::ReadResource(testing::ToJson(entry["resource"]), definitions);
      ASSERT_TRUE(resource) << resource.error().ToString();
      stored.emplace(std::string(entry["resource"]["resourceType"].GetString()) + "/" + entry["resource"]["id"].GetString(), std::move(*resource));
    }
    path = testing::BundleLink(bundle, "next");
  }
  std::vector<std::string> patients;
  for (const auto& [key, resource] : stored) {
    if (key.starts_with("Patient/")) patients.push_back(key);
  }
  ASSERT_EQ(patients.size(), 2u);
  // Compiled once per type: the expressions of its Patient compartment parameters.
  std::map<std::string, std::vector<fhirpath::Expression>> compiled;
  auto references_into_compartment = [&](const std::string& type, const fhir::Resource& resource) {
    if (!compiled.contains(type)) {
      std::vector<fhirpath::Expression>& expressions = compiled[type];
      const std::vector<std::string>* codes = definitions.CompartmentParameters("Patient", type);
      for (const fhir::SearchParameterDefinition& param : definitions.SearchParameters()) {
        if (codes == nullptr || std::find(codes->begin(), codes->end(), param.code) == codes->end() ||
            std::find(param.bases.begin(), param.bases.end(), type) == param.bases.end()) {
          continue;
        }
        auto expression = fhirpath::Expression::Compile(param.expression, definitions, *definitions.FindResourceType(type));
        EXPECT_TRUE(expression) << param.code;
        if (expression) expressions.push_back(std::move(*expression));
      }
    }
    std::set<std::string> references;
    for (const fhirpath::Expression& expression : compiled[type]) {
      auto values = expression.Evaluate(resource, definitions);
      EXPECT_TRUE(values);
      if (values) CollectReferences(*values, references);
    }
    return references;
  };
  for (const std::string& patient : patients) {
    std::set<std::string> expected{patient};
    std::set<std::string> referred;
    AllReferences(stored.at(patient).root(), referred);
    for (const auto& [key, resource] : stored) {
      const std::string type = key.substr(0, key.find('/'));
      if (type == "Patient" || definitions.CompartmentParameters("Patient", type) == nullptr) continue;
      if (!references_into_compartment(type, resource).contains(patient)) continue;
      expected.insert(key);
      AllReferences(resource.root(), referred);
    }
    for (const std::string& target : referred) {
      const std::string type = target.substr(0, target.find('/'));
      if (type != "Patient" && definitions.CompartmentParameters("Patient", type) == nullptr && stored.contains(target)) expected.insert(target);
    }
    ASSERT_GT(expected.size(), 50u);
    Walk walk = WalkEverything(client, "/fhir/" + patient + "/$everything?_count=100");
    ASSERT_EQ(walk.status, 200) << walk.body;
    std::set<std::string> got = AsSet(walk.found);
    EXPECT_EQ(walk.found.size(), got.size()) << patient << ": a resource came twice";
    std::vector<std::string> missing, extra;
    std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(), std::back_inserter(missing));
    std::set_difference(got.begin(), got.end(), expected.begin(), expected.end(), std::back_inserter(extra));
    EXPECT_TRUE(missing.empty() && extra.empty()) << patient << ": " << expected.size() << " expected, " << got.size()
                                                  << " found; missing " << ::testing::PrintToString(missing) << ", extra "
                                                  << ::testing::PrintToString(extra);
    EXPECT_GT(walk.pages, 1u);
  }
}

}  // namespace
}  // namespace ck
