// Chained parameters and reverse chaining (R4 search, "Chained parameters" and "Reverse
// Chaining"), on hand-made data with known answers: chains of one to three links with and
// without a target type, `_has` alone, nested and combined with ordinary parameters (AND) and
// with values OR'ed; a deleted resource in the middle of a chain never matches; malformed and
// ambiguous chains are 400 naming the parameter.
#include <gtest/gtest.h>

#include "support/http_client.h"
#include "support/json.h"
#include "support/put_resource.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace ck {
namespace {

using testing::HttpClient;
using testing::HttpResult;
using testing::ParseJson;
using Ids_ = std::vector<std::string>;

class ChainedSearchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    // Without referential integrity, so that a resource others point to can be deleted.
    server_ = new testing::ServerProcess(dir_->path(), {"--referential-integrity", "false"});
    HttpClient client(server_->port());
    const char* resources[] = {
        R"({"resourceType":"Organization","id":"org1","name":"General Hospital"})",
        R"({"resourceType":"Organization","id":"org2","name":"Riverside Clinic"})",
        R"({"resourceType":"Practitioner","id":"pr1","name":[{"family":"Jones"}]})",
        R"({"resourceType":"Practitioner","id":"pr2","name":[{"family":"Garcia"}]})",
        R"({"resourceType":"Location","id":"l1","name":"Peterson Wing"})",
        R"({"resourceType":"Patient","id":"pa","name":[{"family":"Peterson"}],"generalPractitioner":[{"reference":"Practitioner/pr1"}]})",
        R"({"resourceType":"Patient","id":"pb","name":[{"family":"Brown"}],"generalPractitioner":[{"reference":"Organization/org2"}]})",
        R"({"resourceType":"Patient","id":"pc","name":[{"family":"Peterson"}],"generalPractitioner":[{"reference":"Practitioner/pr2"}]})",
        R"({"resourceType":"Patient","id":"pd","name":[{"family":"Diaz"}],"generalPractitioner":[{"reference":"Practitioner/pr1"}]})",
        R"({"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/pa"},"serviceProvider":{"reference":"Organization/org1"}})",
        R"({"resourceType":"Encounter","id":"e2","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/pb"},"serviceProvider":{"reference":"Organization/org2"}})",
        R"({"resourceType":"Encounter","id":"e3","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/pd"},"serviceProvider":{"reference":"Organization/org1"}})",
        R"({"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1234-5"}]},"subject":{"reference":"Patient/pa"},"encounter":{"reference":"Encounter/e1"}})",
        R"({"resourceType":"Observation","id":"o2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1234-5"}]},"subject":{"reference":"Patient/pb"},"encounter":{"reference":"Encounter/e2"}})",
        R"({"resourceType":"Observation","id":"o3","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1234-5"}]},"subject":{"reference":"Patient/pc"}})",
        R"({"resourceType":"Observation","id":"o4","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"999-9"}]},"subject":{"reference":"Patient/pd"},"encounter":{"reference":"Encounter/e3"}})",
        R"({"resourceType":"Observation","id":"o5","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"555-5"}]},"subject":{"reference":"Location/l1"}})",
        R"({"resourceType":"Observation","id":"o6","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"777-7"}]},"subject":{"reference":"Patient/pd"}})",
        R"({"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://snomed.info/sct","code":"91302008"}]},"subject":{"reference":"Patient/pa"}})",
        R"({"resourceType":"Condition","id":"c2","code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006"}]},"subject":{"reference":"Patient/pd"}})",
        // Canonical references: a QuestionnaireResponse names its Questionnaire by url.
        R"({"resourceType":"Questionnaire","id":"q1","url":"http://example.org/Questionnaire/phq9","version":"2","name":"PHQ9","status":"active"})",
        R"({"resourceType":"Questionnaire","id":"q2","url":"http://example.org/Questionnaire/gad7","name":"GAD7","status":"active"})",
        R"({"resourceType":"QuestionnaireResponse","id":"qr1","questionnaire":"http://example.org/Questionnaire/phq9|2","status":"completed"})",
        R"({"resourceType":"QuestionnaireResponse","id":"qr2","questionnaire":"http://example.org/Questionnaire/gad7","status":"completed"})",
        R"({"resourceType":"QuestionnaireResponse","id":"qr3","questionnaire":"http://elsewhere.org/Questionnaire/phq9","status":"completed"})",
    };
    for (const char* body : resources) {
      HttpResult put = testing::PutResource(client, body);
      ASSERT_LT(put.status, 300) << put.body;
    }
    // Deleted: a patient in the middle of chains (o3 still points to it), and an observation
    // (the only one with its code) in the middle of a reverse chain.
    ASSERT_EQ(client.Request("DELETE", "/fhir/Patient/pc").status / 100, 2);
    ASSERT_EQ(client.Request("DELETE", "/fhir/Observation/o6").status / 100, 2);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  // The ids found, sorted, or the status when it is not 200 (with the diagnostics).
  static Ids_ Ids(const std::string& query) {
    HttpResult result = HttpClient(server_->port()).Get("/fhir/" + query);
    if (result.status != 200) return {"status " + std::to_string(result.status)};
    auto bundle = ParseJson(result.body);
    Ids_ ids;
    if (bundle.HasMember("entry")) {
      for (const auto& entry : bundle["entry"].GetArray()) ids.push_back(entry["resource"]["id"].GetString());
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  static std::string Diagnostics(const std::string& query) { return HttpClient(server_->port()).Get("/fhir/" + query).body; }

  static testing::TempDir* dir_;
  static testing::ServerProcess* server_;
};

testing::TempDir* ChainedSearchTest::dir_ = nullptr;
testing::ServerProcess* ChainedSearchTest::server_ = nullptr;

TEST_F(ChainedSearchTest, OneLinkWithAndWithoutTheTargetType) {
  EXPECT_EQ(Ids("Observation?subject:Patient.name=peterson"), (Ids_{"o1"}));  // o3's patient is deleted
  EXPECT_EQ(Ids("Observation?subject.name=peterson"), (Ids_{"o1", "o5"}));    // patients and locations
  EXPECT_EQ(Ids("Observation?subject:Location.name=peterson"), (Ids_{"o5"}));
  EXPECT_EQ(Ids("Observation?subject:Patient.name:exact=Peterson"), (Ids_{"o1"}));  // the last link's modifier
  EXPECT_EQ(Ids("Observation?subject:Patient.name:exact=peterson"), (Ids_{}));
  EXPECT_EQ(Ids("Observation?patient.name=brown,diaz"), (Ids_{"o2", "o4", }));  // values OR'ed
  EXPECT_EQ(Ids("Observation?patient.name=brown,peterson&code=1234-5"), (Ids_{"o1", "o2"}));  // AND an ordinary parameter
  EXPECT_EQ(Ids("Observation?patient.name=peterson&patient.name=brown"), (Ids_{}));  // AND of two chains
  EXPECT_EQ(Ids("Encounter?service-provider.name=general"), (Ids_{"e1", "e3"}));
  EXPECT_EQ(Ids("Observation?patient._id=pa,pb"), (Ids_{"o1", "o2"}));
  EXPECT_EQ(Ids("Observation?patient.name=nobody"), (Ids_{}));
}

TEST_F(ChainedSearchTest, TwoAndThreeLinks) {
  EXPECT_EQ(Ids("Observation?patient.general-practitioner.name=jones"), (Ids_{"o1", "o4"}));
  EXPECT_EQ(Ids("Observation?patient.general-practitioner:Organization.name=riverside"), (Ids_{"o2"}));
  EXPECT_EQ(Ids("Observation?patient.general-practitioner:Practitioner.name=riverside"), (Ids_{}));
  EXPECT_EQ(Ids("Observation?patient.general-practitioner.name=garcia"), (Ids_{}));  // only pc, deleted, has that practitioner
  EXPECT_EQ(Ids("Observation?encounter.service-provider.name=general"), (Ids_{"o1", "o4"}));
  EXPECT_EQ(Ids("Observation?encounter.subject:Patient.general-practitioner.name=jones"), (Ids_{"o1", "o4"}));
  EXPECT_EQ(Ids("Observation?encounter.subject:Patient.general-practitioner.name=jones&code=999-9"), (Ids_{"o4"}));
}

// R4 defines chains through canonical references too: the target is the resource whose url the
// reference names (any version).
TEST_F(ChainedSearchTest, ChainsThroughCanonicalReferences) {
  EXPECT_EQ(Ids("QuestionnaireResponse?questionnaire.name=PHQ9"), (Ids_{"qr1"}));
  EXPECT_EQ(Ids("QuestionnaireResponse?questionnaire:Questionnaire.name=GAD7,PHQ9"), (Ids_{"qr1", "qr2"}));
  EXPECT_EQ(Ids("QuestionnaireResponse?questionnaire.name=nothing"), (Ids_{}));
  EXPECT_EQ(Ids("Questionnaire?_has:QuestionnaireResponse:questionnaire:status=completed"), (Ids_{"q1", "q2"}));
  EXPECT_EQ(Ids("Questionnaire?_has:QuestionnaireResponse:questionnaire:_id=qr1"), (Ids_{"q1"}));
}

TEST_F(ChainedSearchTest, ReverseChains) {
  EXPECT_EQ(Ids("Patient?_has:Observation:patient:code=1234-5"), (Ids_{"pa", "pb"}));  // pc is deleted
  EXPECT_EQ(Ids("Patient?_has:Observation:patient:code=1234-5,999-9"), (Ids_{"pa", "pb", "pd"}));
  EXPECT_EQ(Ids("Patient?_has:Observation:patient:code=777-7"), (Ids_{}));  // o6 is deleted
  EXPECT_EQ(Ids("Patient?_has:Observation:patient:code=1234-5&_has:Condition:subject:code=91302008"), (Ids_{"pa"}));
  EXPECT_EQ(Ids("Patient?_has:Observation:patient:code=1234-5&family=brown"), (Ids_{"pb"}));
  EXPECT_EQ(Ids("Organization?_has:Encounter:service-provider:_has:Observation:encounter:code=999-9"), (Ids_{"org1"}));  // nested
  EXPECT_EQ(Ids("Organization?_has:Encounter:service-provider:_has:Observation:encounter:code=1234-5"), (Ids_{"org1", "org2"}));
  EXPECT_EQ(Ids("Practitioner?_has:Patient:general-practitioner:_has:Observation:patient:code=999-9"), (Ids_{"pr1"}));
  EXPECT_EQ(Ids("Observation?subject:Patient._has:Condition:subject:code=91302008"), (Ids_{"o1"}));  // a chain, then a reverse one
  EXPECT_EQ(Ids("Patient?_has:Observation:patient:encounter.service-provider.name=riverside"), (Ids_{"pb"}));  // a reverse one, then a chain
  EXPECT_EQ(Ids("Patient?_has:Observation:patient:code:not=1234-5"), (Ids_{"pd"}));  // a negative inner condition
}

TEST_F(ChainedSearchTest, MalformedAndAmbiguousChainsAreRefusedNamingTheParameter) {
  for (const char* bad : {"Observation?subject:Robot.name=x", "Observation?code.name=x", "Observation?subject.nonsense=x",
                          "Observation?subject:Patient.=x", "Patient?_has:Observation:code:code=x", "Patient?_has:Observation:encounter:code=x",
                          "Patient?_has:Robot:patient:code=x", "Patient?_has:Observation:patient=x", "Observation?subject._has:Condition:subject:code=x",
                          "Organization?partof.partof.partof.partof.partof.partof.partof.partof.name=x",
                          "Basic?subject.subject.subject.subject._id=x",  // references to any type: a bounded fan-out
                          "Observation?subject:Patient.name=x:y:z"}) {
    const std::string answer = Diagnostics(bad);
    if (std::string(bad).ends_with("x:y:z")) {  // the value is not the name: an ordinary value
      EXPECT_EQ(Ids(bad), (Ids_{})) << bad;
      continue;
    }
    EXPECT_EQ(Ids(bad), (Ids_{"status 400"})) << bad << ": " << answer;
    EXPECT_NE(answer.find("OperationOutcome"), std::string::npos) << answer;
  }
  EXPECT_NE(Diagnostics("Observation?subject:Robot.name=x").find("subject:Robot.name"), std::string::npos);
  EXPECT_NE(Diagnostics("Patient?_has:Observation:encounter:code=x").find("never points to Patient"), std::string::npos);
  EXPECT_EQ(Ids("Organization?partof.partof.partof.partof.partof.partof.partof.name=x"), (Ids_{}));  // eight links
  EXPECT_EQ(Ids("Basic?subject._id=o1"), (Ids_{}));  // one reference to any type: 145 target types, allowed
  EXPECT_NE(Diagnostics("Basic?subject.subject.subject.subject._id=x").find("name the types"), std::string::npos);
}

}  // namespace
}  // namespace ck
