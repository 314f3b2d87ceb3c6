// Black-box specification of type-level search over HTTP, on small hand-made data with known
// answers: each parameter type with its prefixes and modifiers, OR with commas and AND with
// repeated parameters, escaping, paging by cursor while writes go on, counts, and the errors:
// malformed values are 400 naming the parameter, unknown parameters are ignored and reported
// (or 400 under Prefer: handling=strict), and values never reach SQL as text.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

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

class SearchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    server_ = new testing::ServerProcess(dir_->path());
    HttpClient client(server_->port());
    const char* resources[] = {
        R"({"resourceType":"Patient","id":"p1","name":[{"family":"Müller","given":["Anna"]}],"gender":"female","birthDate":"1970-05-02",
            "identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"system":"http://h/mrn","value":"A,1"}]})",
        R"({"resourceType":"Patient","id":"p2","name":[{"family":"Smith","given":["Bob"]}],"gender":"male","birthDate":"1985",
            "meta":{"tag":[{"system":"http://example.org/tags","code":"vip"}],"source":"http://legacy.example/ehr",
              "profile":["http://hl7.org/fhir/StructureDefinition/Patient"]}})",
        R"({"resourceType":"Patient","id":"p3","name":[{"family":"Mullins"}],"birthDate":"1970-12-31"})",
        R"({"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},
            "code":{"coding":[{"system":"http://loinc.org","code":"2339-0","display":"Glucose"}]},
            "valueQuantity":{"value":540,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"},
            "effectiveDateTime":"2024-03-05T10:00:00Z","interpretation":[{"text":"high"}],"note":[{"text":"fasting"}],
            "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Glucose 540 mg/dL</div>"}})",
        R"({"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p2"},
            "code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}],"text":"Systolic blood pressure"},
            "valueQuantity":{"value":120,"system":"http://unitsofmeasure.org","code":"mm[Hg]"},
            "effectivePeriod":{"start":"2024-06-01"}})",
        R"({"resourceType":"RiskAssessment","id":"r1","status":"final","subject":{"reference":"Patient/p1"},"prediction":[{"probabilityDecimal":0.5}]})",
        R"({"resourceType":"ValueSet","id":"v1","status":"active","url":"http://example.org/fhir/ValueSet/colours"})",
    };
    for (const char* body : resources) {
      HttpResult put = testing::PutResource(client, body);
      ASSERT_LT(put.status, 300) << put.body;
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  // The ids found with search mode `mode`, in order, or the status when it is not 200.
  std::vector<std::string> Ids(const std::string& query, std::map<std::string, std::string> headers = {},
                               const std::string& mode = "match") {
    HttpResult result = HttpClient(server_->port()).Get("/fhir/" + query, std::move(headers));
    if (result.status != 200) return {"status " + std::to_string(result.status)};
    auto bundle = ParseJson(result.body);
    std::vector<std::string> ids;
    if (!bundle.HasMember("entry")) return ids;
    for (const auto& entry : bundle["entry"].GetArray()) {
      if (entry["search"]["mode"].GetString() == mode) ids.push_back(entry["resource"]["id"].GetString());
    }
    return ids;
  }
  std::vector<std::string> Included(const std::string& query) { return Ids(query, {}, "include"); }
  using Ids_ = std::vector<std::string>;

  static testing::TempDir* dir_;
  static testing::ServerProcess* server_;
};

testing::TempDir* SearchTest::dir_ = nullptr;
testing::ServerProcess* SearchTest::server_ = nullptr;

TEST_F(SearchTest, Strings) {
  EXPECT_EQ(Ids("Patient?family=mul"), (Ids_{"p1", "p3"}));       // starts with, accents and case folded
  EXPECT_EQ(Ids("Patient?family=MÜLLER"), (Ids_{"p1"}));
  EXPECT_EQ(Ids("Patient?family:exact=Müller"), (Ids_{"p1"}));
  EXPECT_EQ(Ids("Patient?family:exact=muller"), (Ids_{}));
  EXPECT_EQ(Ids("Patient?family:contains=llin"), (Ids_{"p3"}));
  EXPECT_EQ(Ids("Patient?name=anna"), (Ids_{"p1"}));               // any part of the name
  EXPECT_EQ(Ids("Patient?name=anna%20m"), (Ids_{"p1"}));           // or the whole of it
}

TEST_F(SearchTest, Tokens) {
  EXPECT_EQ(Ids("Patient?gender=female"), (Ids_{"p1"}));
  EXPECT_EQ(Ids("Patient?gender=male,female"), (Ids_{"p1", "p2"}));  // OR
  EXPECT_EQ(Ids("Patient?gender:not=male"), (Ids_{"p1", "p3"}));    // also those without a gender
  EXPECT_EQ(Ids("Patient?gender:missing=true"), (Ids_{"p3"}));
  EXPECT_EQ(Ids("Patient?gender:missing=false"), (Ids_{"p1", "p2"}));
  EXPECT_EQ(Ids("Observation?code=http://loinc.org|2339-0"), (Ids_{"o1"}));
  EXPECT_EQ(Ids("Observation?code=2339-0"), (Ids_{"o1"}));
  EXPECT_EQ(Ids("Observation?code=http://snomed.info/sct|2339-0"), (Ids_{}));
  EXPECT_EQ(Ids("Observation?code=|2339-0"), (Ids_{}));  // no system: none of ours
  EXPECT_EQ(Ids("Observation?code=http://loinc.org|"), (Ids_{"o1", "o2"}));
  EXPECT_EQ(Ids("Observation?code:text=systolic"), (Ids_{"o2"}));
  EXPECT_EQ(Ids("Observation?code:text=gluc"), (Ids_{"o1"}));
  EXPECT_EQ(Ids("Patient?identifier=http://h/mrn|A\\,1"), (Ids_{"p1"}));  // an escaped comma is part of the value
  EXPECT_EQ(Ids("Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|A\\,1"), (Ids_{"p1"}));
  EXPECT_EQ(Ids("Patient?_id=p2,p3"), (Ids_{"p2", "p3"}));
  EXPECT_EQ(Ids("Patient?_tag=http://example.org/tags|vip"), (Ids_{"p2"}));
  EXPECT_EQ(Ids("Patient?_source=http://legacy.example/ehr"), (Ids_{"p2"}));
  EXPECT_EQ(Ids("Patient?_profile=http://hl7.org/fhir/StructureDefinition/Patient"), (Ids_{"p2"}));
}

TEST_F(SearchTest, DatesWithPrefixes) {
  EXPECT_EQ(Ids("Patient?birthdate=1970"), (Ids_{"p1", "p3"}));
  EXPECT_EQ(Ids("Patient?birthdate=1970-05"), (Ids_{"p1"}));
  EXPECT_EQ(Ids("Patient?birthdate=ge1980"), (Ids_{"p2"}));
  EXPECT_EQ(Ids("Patient?birthdate=lt1970-06"), (Ids_{"p1"}));
  EXPECT_EQ(Ids("Patient?birthdate=gt1970-06-01&birthdate=lt1980"), (Ids_{"p3"}));  // AND
  EXPECT_EQ(Ids("Patient?birthdate=ne1970"), (Ids_{"p2"}));
  EXPECT_EQ(Ids("Patient?birthdate=sa1984-12-31"), (Ids_{"p2"}));
  EXPECT_EQ(Ids("Patient?birthdate=eb1971"), (Ids_{"p1", "p3"}));
  EXPECT_EQ(Ids("Observation?date=2024-03-05T11:00:00%2B01:00"), (Ids_{"o1"}));  // the same instant
  EXPECT_EQ(Ids("Observation?date=ge2030"), (Ids_{"o2"}));                      // a period without an end is open
  EXPECT_EQ(Ids("Observation?date=eb2024-05-01"), (Ids_{"o1"}));
  // o1 is the second [10:00:00.000, 10:00:01.000): le and ge take what lies strictly below or
  // above the searched millisecond, or what it contains (found by the differential test).
  EXPECT_EQ(Ids("Observation?date=le2024-03-05T10:00:00.000Z"), (Ids_{}));
  EXPECT_EQ(Ids("Observation?date=le2024-03-05T10:00:00.001Z"), (Ids_{"o1"}));
  EXPECT_EQ(Ids("Observation?date=ge2024-03-05T10:00:00.999Z&code=2339-0"), (Ids_{}));
  EXPECT_EQ(Ids("Observation?date=ge2024-03-05T10:00:00.998Z&code=2339-0"), (Ids_{"o1"}));
}

TEST_F(SearchTest, NumbersAndQuantities) {
  EXPECT_EQ(Ids("RiskAssessment?probability=0.5"), (Ids_{"r1"}));
  EXPECT_EQ(Ids("RiskAssessment?probability=0.50"), (Ids_{}));  // 0.5 is [0.45, 0.55), wider than 0.50's interval
  EXPECT_EQ(Ids("RiskAssessment?probability=gt0.4"), (Ids_{"r1"}));
  EXPECT_EQ(Ids("RiskAssessment?probability=ap0.52"), (Ids_{"r1"}));
  EXPECT_EQ(Ids("Observation?value-quantity=540"), (Ids_{"o1"}));
  EXPECT_EQ(Ids("Observation?value-quantity=5.4|http://unitsofmeasure.org|g/L"), (Ids_{"o1"}));  // converted
  EXPECT_EQ(Ids("Observation?value-quantity=gt5|http://unitsofmeasure.org|g/L"), (Ids_{"o1"}));
  EXPECT_EQ(Ids("Observation?value-quantity=5.4|http://unitsofmeasure.org|mmol/L"), (Ids_{}));  // not commensurable
  EXPECT_EQ(Ids("Observation?value-quantity=lt200|http://unitsofmeasure.org|mm[Hg]"), (Ids_{"o2"}));
  EXPECT_EQ(Ids("Observation?value-quantity=120||mm[Hg]"), (Ids_{"o2"}));
}

TEST_F(SearchTest, ReferencesAndUris) {
  EXPECT_EQ(Ids("Observation?subject=Patient/p1"), (Ids_{"o1"}));
  EXPECT_EQ(Ids("Observation?subject=p2"), (Ids_{"o2"}));
  EXPECT_EQ(Ids("Observation?subject:Patient=p2"), (Ids_{"o2"}));
  EXPECT_EQ(Ids("Observation?patient=p1"), (Ids_{"o1"}));
  EXPECT_EQ(Ids("Observation?subject=http://127.0.0.1:" + std::to_string(server_->port()) + "/fhir/Patient/p1"), (Ids_{"o1"}));  // absolute, this server
  EXPECT_EQ(Ids("Observation?subject=Patient/p1&code=8480-6"), (Ids_{}));
  EXPECT_EQ(Ids("ValueSet?url=http://example.org/fhir/ValueSet/colours"), (Ids_{"v1"}));
  EXPECT_EQ(Ids("ValueSet?url:below=http://example.org/fhir"), (Ids_{"v1"}));
  EXPECT_EQ(Ids("ValueSet?url:above=http://example.org/fhir/ValueSet/colours/v2"), (Ids_{"v1"}));
}

TEST_F(SearchTest, IncludesWhatMatchesPointToAndWhatPointsToThem) {
  EXPECT_EQ(Ids("Observation?code=2339-0&_include=Observation:subject"), (Ids_{"o1"}));
  EXPECT_EQ(Included("Observation?code=2339-0&_include=Observation:subject"), (Ids_{"p1"}));
  EXPECT_EQ(Included("Observation?_include=Observation:subject:Patient"), (Ids_{"p1", "p2"}));  // each once
  EXPECT_EQ(Included("Observation?_include=Observation:subject:Group"), (Ids_{}));
  EXPECT_EQ(Included("Observation?_id=o2&_include=*"), (Ids_{"p2"}));
  EXPECT_EQ(Included("Patient?_id=p1&_revinclude=Observation:subject"), (Ids_{"o1"}));
  EXPECT_EQ(Included("Patient?_id=p1&_revinclude=Observation:subject&_revinclude=RiskAssessment:subject"), (Ids_{"o1", "r1"}));
  EXPECT_EQ(Included("Patient?_id=p1&_revinclude=*"), (Ids_{"o1", "r1"}));  // of every type, through every parameter
  EXPECT_EQ(Included("Patient?_id=p3&_revinclude=*"), (Ids_{}));
  // Without :iterate, includes start from the matches only; with it, from what was included too.
  EXPECT_EQ(Included("Observation?_id=o1&_include=Observation:subject&_revinclude=RiskAssessment:subject"), (Ids_{"p1"}));
  EXPECT_EQ(Included("Observation?_id=o1&_include=Observation:subject&_revinclude:iterate=RiskAssessment:subject"), (Ids_{"p1", "r1"}));
  for (const char* bad : {"Observation?_include=Observation:code", "Observation?_include=Robot:subject",
                          "Observation?_include=Observation:subject:Medication", "Patient?_revinclude=Robot",
                          "Observation?_include:recurse=Observation:subject"}) {
    EXPECT_EQ(Ids(bad), (Ids_{"status 400"})) << bad;
  }
}

// Compartments as the R4 CompartmentDefinitions draw them.
TEST_F(SearchTest, SearchesInACompartment) {
  EXPECT_EQ(Ids("Patient/p1/Observation"), (Ids_{"o1"}));
  EXPECT_EQ(Ids("Patient/p1/RiskAssessment"), (Ids_{"r1"}));
  EXPECT_EQ(Ids("Patient/p1/Patient"), (Ids_{"p1"}));  // the compartment's own resource
  EXPECT_EQ(Ids("Patient/p2/Observation?code=2339-0"), (Ids_{}));
  EXPECT_EQ(Ids("Patient/p2/Observation?code=8480-6"), (Ids_{"o2"}));
  EXPECT_EQ(Ids("Patient/nobody/Observation"), (Ids_{}));
  EXPECT_EQ(Ids("Patient/p1/ValueSet"), (Ids_{"status 400"}));  // never in a patient compartment
  EXPECT_EQ(Ids("Robot/p1/Observation"), (Ids_{"status 404"}));
  EXPECT_EQ(Ids("Patient/bad$id/Observation"), (Ids_{"status 400"}));
}

// _sort by any indexed parameter, several keys, descending with '-', resources without a value
// last; paging follows the same order.
TEST_F(SearchTest, SortsAndPagesInThatOrder) {
  EXPECT_EQ(Ids("Patient?_sort=family"), (Ids_{"p1", "p3", "p2"}));  // muller, mullins, smith
  EXPECT_EQ(Ids("Patient?_sort=-family"), (Ids_{"p2", "p3", "p1"}));
  EXPECT_EQ(Ids("Patient?_sort=birthdate"), (Ids_{"p1", "p3", "p2"}));
  EXPECT_EQ(Ids("Patient?_sort=-birthdate"), (Ids_{"p2", "p3", "p1"}));
  EXPECT_EQ(Ids("Patient?_sort=gender"), (Ids_{"p1", "p2", "p3"}));   // female, male, none
  EXPECT_EQ(Ids("Patient?_sort=-gender"), (Ids_{"p2", "p1", "p3"}));  // none still last
  EXPECT_EQ(Ids("Patient?_sort=-_id"), (Ids_{"p3", "p2", "p1"}));
  EXPECT_EQ(Ids("Patient?_sort=-_lastUpdated"), (Ids_{"p3", "p2", "p1"}));
  EXPECT_EQ(Ids("Patient?_sort=gender,-birthdate&family=m"), (Ids_{"p1", "p3"}));
  // Page by page, forward by the next links and back by the previous ones: the same order
  // (missing values last either way).
  for (const char* order : {"gender", "-gender", "-birthdate,family", "family"}) {
    HttpClient client(server_->port());
    testing::SearchPages forward = testing::WalkPages(client, std::string("/fhir/Patient?_count=1&_sort=") + order);
    EXPECT_EQ(testing::Flatten(forward.pages), Ids(std::string("Patient?_sort=") + order)) << order;
    testing::SearchPages back = testing::WalkPages(client, forward.last, "previous");
    std::reverse(back.pages.begin(), back.pages.end());
    EXPECT_EQ(back.pages, forward.pages) << order;
  }
  EXPECT_EQ(Ids("Patient?_sort=colour"), (Ids_{"status 400"}));
  EXPECT_EQ(Ids("Patient?_sort=family&_cursor=s3:abc"), (Ids_{"status 400"}));
  EXPECT_EQ(Ids("Patient?_sort=family&_cursor=i1;s999:x"), (Ids_{"status 400"}));
}

// GET /fhir?_type=...: each type searched with the same parameters, in type then id order.
TEST_F(SearchTest, SearchesAcrossTypes) {
  EXPECT_EQ(Ids("?_type=Patient,Observation&_lastUpdated=gt2000"), (Ids_{"o1", "o2", "p1", "p2", "p3"}));
  EXPECT_EQ(Ids("?_type=Patient&gender=male"), (Ids_{"p2"}));
  EXPECT_EQ(Ids("?gender=male"), (Ids_{"p2"}));  // types without a gender parameter are left out
  EXPECT_EQ(Ids("?_id=p1,o1"), (Ids_{"o1", "p1"}));
  EXPECT_EQ(Ids("?_type=Patient,Observation&gender=male"), (Ids_{"status 400"}));
  EXPECT_EQ(Ids("?_type=Robot"), (Ids_{"status 404"}));
  EXPECT_EQ(Ids("?_type=Patient&_cursor=Patient/bi1;"), (Ids_{"status 400"}));  // across types: forward only
  HttpClient client(server_->port());
  auto count = ParseJson(client.Get("/fhir?_id=p1,o1,r1&_summary=count").body);
  EXPECT_EQ(count["total"].GetInt(), 3);
  std::vector<std::string> walked;
  std::string next = "/fhir?_type=Observation,Patient,RiskAssessment&_count=2&_total=accurate";
  while (!next.empty()) {
    HttpResult page = client.Get(next);
    ASSERT_EQ(page.status, 200) << page.body;
    auto bundle = ParseJson(page.body);
    EXPECT_EQ(bundle["total"].GetInt(), 6);
    if (bundle.HasMember("entry")) {
      for (const auto& entry : bundle["entry"].GetArray()) walked.push_back(entry["resource"]["id"].GetString());
    }
    next = testing::BundleLink(bundle, "next");
  }
  EXPECT_EQ(walked, (Ids_{"o1", "o2", "p1", "p2", "p3", "r1"}));
  // The links carry the page size once, as their own.
  std::string self = testing::BundleLink(ParseJson(client.Get("/fhir?_type=Patient&_count=2&_format=json").body), "self");
  EXPECT_EQ(self.find("_count=2"), self.rfind("_count=2")) << self;
  EXPECT_EQ(self.find("_format"), std::string::npos) << self;
}

// _sort across types: the matches of every type merged by the sort keys; on equal keys (here,
// no tag) by type, then as one type orders them. Paging walks the same order.
TEST_F(SearchTest, SortsAcrossTypes) {
  EXPECT_EQ(Ids("?_type=Patient,Observation&_sort=-_lastUpdated"), (Ids_{"o2", "o1", "p3", "p2", "p1"}));
  EXPECT_EQ(Ids("?_type=Patient,Observation&_sort=_id"), (Ids_{"o1", "o2", "p1", "p2", "p3"}));
  EXPECT_EQ(Ids("?_type=Patient,Observation&_sort=_tag"), (Ids_{"p2", "o1", "o2", "p1", "p3"}));
  EXPECT_EQ(Ids("?_type=Patient,Observation&_sort=-_tag,-_id"), (Ids_{"p2", "p3", "p1", "o2", "o1"}));
  EXPECT_EQ(Ids("?_sort=-_lastUpdated"), (Ids_{"v1", "r1", "o2", "o1", "p3", "p2", "p1"}));
  EXPECT_EQ(Ids("?_type=Patient,Observation&_sort=-_lastUpdated&_lastUpdated=gt2000&_id=p1,o1,o2"), (Ids_{"o2", "o1", "p1"}));
  HttpClient client(server_->port());
  for (const std::string order : {"-_lastUpdated", "_tag", "-_tag,_id", "_id"}) {
    const std::string query = "?_type=Patient,Observation,RiskAssessment&_sort=" + order;
    for (const char* count : {"1", "2"}) {
      testing::SearchPages walk = testing::WalkPages(client, "/fhir" + query + "&_count=" + count + "&_total=accurate");
      EXPECT_EQ(testing::Flatten(walk.pages), Ids(query)) << order << " by " << count;
      auto last = ParseJson(client.Get(walk.last).body);
      EXPECT_EQ(last["total"].GetInt(), 6) << order;
      EXPECT_EQ(testing::BundleLink(last, "previous"), "") << order;  // merged pages go forward only
    }
  }
  // What each page's matches include comes with that page.
  EXPECT_EQ(Ids("?_type=Observation,RiskAssessment&_sort=-_lastUpdated&_count=2&_include=Observation:subject&_include=RiskAssessment:subject"),
            (Ids_{"r1", "o2"}));
  std::vector<std::string> included = Included(
      "?_type=Observation,RiskAssessment&_sort=-_lastUpdated&_count=2&_include=Observation:subject&_include=RiskAssessment:subject");
  std::sort(included.begin(), included.end());
  EXPECT_EQ(included, (Ids_{"p1", "p2"}));
  EXPECT_EQ(Ids("?_type=Patient,Observation&_sort=_id&_summary=count"), (Ids_{}));
  EXPECT_EQ(ParseJson(client.Get("/fhir?_type=Patient,Observation&_sort=_id&_summary=count").body)["total"].GetInt(), 5);
  EXPECT_EQ(Ids("?_sort=family"), (Ids_{"status 400"}));  // not a parameter of every type
  EXPECT_EQ(Ids("?_type=Patient,Observation&_sort=_id&_cursor=9.i1;"), (Ids_{"status 400"}));
  EXPECT_EQ(Ids("?_type=Patient,Observation&_sort=_id&_cursor=x"), (Ids_{"status 400"}));
  EXPECT_EQ(Ids("?_type=Patient,Observation&_sort=_id&_cursor=bi1;"), (Ids_{"status 400"}));
}

TEST_F(SearchTest, PagesByCursorAndCounts) {
  HttpClient client(server_->port());
  std::vector<std::string> seen;
  std::string next = "/fhir/Patient?_count=1&_total=accurate";
  while (!next.empty()) {
    HttpResult page = client.Get(next);
    ASSERT_EQ(page.status, 200) << page.body;
    auto bundle = ParseJson(page.body);
    EXPECT_EQ(bundle["total"].GetInt(), 3);
    for (const auto& entry : bundle["entry"].GetArray()) seen.push_back(entry["resource"]["id"].GetString());
    next = testing::BundleLink(bundle, "next");
  }
  EXPECT_EQ(seen, (Ids_{"p1", "p2", "p3"}));
  HttpResult count = client.Get("/fhir/Observation?_summary=count");
  auto bundle = ParseJson(count.body);
  EXPECT_EQ(bundle["total"].GetInt(), 2);
  EXPECT_FALSE(bundle.HasMember("entry"));
  HttpResult post = client.Post("/fhir/Patient/_search", "gender=female&family=m%C3%BC", {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(post.status, 200) << post.body;
  EXPECT_NE(post.body.find(R"("id":"p1")"), std::string::npos) << post.body;
}

// _summary and _elements: what of each resource the answer holds; a subset is tagged SUBSETTED.
TEST_F(SearchTest, SummaryAndElementsShapeEachResource) {
  HttpClient client(server_->port());
  auto members = [&](const std::string& query) {
    HttpResult result = client.Get("/fhir/Observation?_id=o1&" + query);
    EXPECT_EQ(result.status, 200) << result.body;
    auto bundle = ParseJson(result.body);
    const auto& resource = bundle["entry"][0]["resource"];
    std::set<std::string> names;
    for (const auto& member : resource.GetObject()) names.insert(member.name.GetString());
    bool subsetted = false;
    if (resource.HasMember("meta") && resource["meta"].HasMember("tag")) {
      for (const auto& tag : resource["meta"]["tag"].GetArray()) subsetted |= std::string(tag["code"].GetString()) == "SUBSETTED";
    }
    if (subsetted) names.insert("SUBSETTED");
    return names;
  };
  using Names = std::set<std::string>;
  const Names all = {"resourceType", "id", "meta", "text", "status", "code", "subject", "effectiveDateTime", "valueQuantity",
                     "interpretation", "note"};
  EXPECT_EQ(members("_summary=false"), all);
  EXPECT_EQ(members("_summary=true"),
            (Names{"resourceType", "id", "meta", "status", "code", "subject", "effectiveDateTime", "valueQuantity", "SUBSETTED"}));
  EXPECT_EQ(members("_summary=text"), (Names{"resourceType", "id", "meta", "text", "status", "code", "SUBSETTED"}));
  Names data = all;
  data.erase("text");
  data.insert("SUBSETTED");
  EXPECT_EQ(members("_summary=data"), data);
  EXPECT_EQ(members("_elements=subject,value"), (Names{"resourceType", "id", "meta", "status", "code", "subject", "valueQuantity", "SUBSETTED"}));

  // The next link keeps the subset.
  std::string next = "/fhir/Patient?_elements=gender&_count=1";
  int pages = 0;
  while (!next.empty() && pages < 10) {
    auto bundle = ParseJson(client.Get(next).body);
    EXPECT_FALSE(bundle["entry"][0]["resource"].HasMember("name"));
    EXPECT_NE(std::string(bundle["entry"][0]["resource"]["meta"]["tag"][0]["code"].GetString()), "");
    next = testing::BundleLink(bundle, "next");
    ++pages;
  }
  EXPECT_EQ(pages, 3);

  // Reads take them too (not count).
  auto read = ParseJson(client.Get("/fhir/Observation/o1?_summary=true").body);
  EXPECT_FALSE(read.HasMember("note"));
  EXPECT_TRUE(read.HasMember("valueQuantity"));
  EXPECT_EQ(std::string(read["meta"]["tag"][0]["code"].GetString()), "SUBSETTED");
  auto elements = ParseJson(client.Get("/fhir/Observation/o1?_elements=subject").body);
  EXPECT_TRUE(elements.HasMember("subject") && elements.HasMember("status") && !elements.HasMember("valueQuantity"));
  EXPECT_EQ(client.Get("/fhir/Observation/o1?_summary=count").status, 400);
  EXPECT_EQ(client.Get("/fhir/Observation/o1?_summary=true&_elements=code").status, 400);
  EXPECT_EQ(client.Get("/fhir/Observation?_summary=true&_elements=code").status, 400);
  EXPECT_EQ(client.Get("/fhir/Observation?_summary=maybe").status, 400);
  HttpResult unknown = client.Get("/fhir/Observation?_elements=colour,code");
  EXPECT_EQ(unknown.status, 200);
  EXPECT_NE(unknown.body.find("'colour' is not an element of Observation"), std::string::npos) << unknown.body;
  EXPECT_EQ(client.Get("/fhir/Observation?_elements=colour", {{"Prefer", "handling=strict"}}).status, 400);
}

TEST_F(SearchTest, ErrorsNameTheParameter) {
  HttpClient client(server_->port());
  for (const char* query : {"Patient?birthdate=yesterday", "Patient?birthdate=xx1970", "RiskAssessment?probability=abc",
                            "Patient?gender:exact=male", "Patient?family:below=x", "Observation?code:in=http://x",
                            "Observation?value-quantity=1|http://unitsofmeasure.org|furlongs", "Patient?_count=-1",
                            "Observation?subject:Device=Patient/p1", "Patient?gender:missing=maybe"}) {
    HttpResult result = client.Get(std::string("/fhir/") + query);
    EXPECT_EQ(result.status, 400) << query << ": " << result.body;
    std::string name(query + std::string(query).find('?') + 1);
    name = name.substr(0, name.find_first_of(":="));
    EXPECT_NE(result.body.find("'" + name), std::string::npos) << query << ": " << result.body;
  }
  // Unknown parameters: ignored and said so, or refused when the client asks for strict handling.
  HttpResult lenient = client.Get("/fhir/Patient?colour=blue&gender=male");
  ASSERT_EQ(lenient.status, 200);
  EXPECT_NE(lenient.body.find(R"("mode":"outcome")"), std::string::npos) << lenient.body;
  EXPECT_NE(lenient.body.find("colour"), std::string::npos) << lenient.body;
  EXPECT_EQ(Ids("Patient?colour=blue&gender=male"), (Ids_{"p2"}));
  EXPECT_EQ(client.Get("/fhir/Patient?colour=blue", {{"Prefer", "handling=strict"}}).status, 400);
  EXPECT_EQ(client.Get("/fhir/Robot?name=x").status, 404);
}

TEST_F(SearchTest, ValuesNeverReachSqlAsText) {
  for (const char* value : {"x'%20OR%20'1'='1", "%27%29%3B%20DROP%20TABLE%20resource%3B--", "%25", "_"}) {
    EXPECT_EQ(Ids(std::string("Patient?family=") + value), (Ids_{})) << value;
    EXPECT_EQ(Ids(std::string("Patient?gender=") + value), (Ids_{})) << value;
  }
  EXPECT_EQ(Ids("Patient?family%27%3B--=x").size(), 3u);  // an unknown (odd) name is only ignored
  EXPECT_EQ(Ids("Patient?_id=p1").size(), 1u);              // nothing was dropped
}

}  // namespace
}  // namespace ck

namespace ck {
namespace {

// While another client creates and updates matching resources, a walk through every page sees
// each resource that matched throughout exactly once, and none twice.
TEST(SearchPagingTest, NeverRepeatsOrSkipsWhileWritesGoOn) {
  testing::TempDir dir;
  testing::ServerProcess server(dir.path());
  HttpClient client(server.port());
  constexpr int kInitial = 1000;
  auto patient = [](const std::string& id, const std::string& family) {
    return R"({"resourceType":"Patient","id":")" + id + R"(","gender":"other","name":[{"family":")" + family + R"("}]})";
  };
  std::set<std::string> initial;
  for (int i = 0; i < kInitial; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "p%05d", i);
    initial.insert(id);
    ASSERT_EQ(client.Put(std::string("/fhir/Patient/") + id, patient(id, "A")).status, 201);
  }
  std::atomic<bool> walking{true};
  std::thread writer([&] {
    HttpClient writes(server.port());
    for (int i = 0; walking; ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "p%05d", (i * 7919) % kInitial);  // updates all over the id range
      writes.Put(std::string("/fhir/Patient/") + id, patient(id, "B" + std::to_string(i)));
      writes.Post("/fhir/Patient", R"({"resourceType":"Patient","gender":"other"})");  // new ones, random ids
    }
  });
  std::multiset<std::string> seen;
  std::string next = "/fhir/Patient?gender=other&_count=37";
  int pages = 0;
  while (!next.empty()) {
    HttpResult page = client.Get(next);
    EXPECT_EQ(page.status, 200) << page.body;  // not ASSERT: the writer must be joined
    if (page.status != 200) break;
    auto bundle = ParseJson(page.body);
    if (bundle.HasMember("entry")) {
      for (const auto& entry : bundle["entry"].GetArray()) seen.insert(entry["resource"]["id"].GetString());
    }
    next = testing::BundleLink(bundle, "next");
    ++pages;
  }
  walking = false;
  writer.join();
  for (const std::string& id : initial) EXPECT_EQ(seen.count(id), 1u) << id;
  for (const std::string& id : seen) EXPECT_EQ(seen.count(id), 1u) << id << " seen twice";
  EXPECT_GT(pages, kInitial / 37);
  // Once writes stop, the count is the number of matches a walk pages through.
  HttpResult count = client.Get("/fhir/Patient?gender=other&_summary=count");
  const std::size_t walked = testing::Flatten(testing::WalkPages(client, "/fhir/Patient?gender=other&_count=200&_elements=id").pages).size();
  EXPECT_GE(ParseJson(count.body)["total"].GetInt(), kInitial);
  EXPECT_EQ(ParseJson(count.body)["total"].GetUint64(), walked);
}

}  // namespace
}  // namespace ck
