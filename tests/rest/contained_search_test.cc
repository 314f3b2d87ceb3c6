// Searching contained resources over HTTP (R4 search, "Contained Resources"): by default a
// search finds resources only; `_contained=true` finds the resources contained in others,
// answered by their container (each container once) or, with `_containedType=contained`, alone
// under the container's URL and the contained id; `_contained=both` finds both. Contained
// resources follow their container's current version, and bad values are errors.
#include <gtest/gtest.h>

#include <fstream>

#include "support/chartkeeper_command.h"
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
using Ids = std::vector<std::string>;

std::string Medication(const std::string& id, const std::string& code) {
  return R"({"resourceType":"Medication","id":")" + id +
         R"(","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":")" + code + R"("}]}})";
}

// A MedicationRequest for patient p1 whose medication is its first contained Medication; the
// others are supporting information (a contained resource must be referred to: R4 dom-3).
std::string Request(const std::string& id, const std::vector<std::string>& contained) {
  std::string body = R"({"resourceType":"MedicationRequest","id":")" + id + R"(","contained":[)";
  std::string others;
  for (std::size_t i = 0; i < contained.size(); ++i) {
    body += (i == 0 ? "" : ",") + contained[i];
    if (i > 0) others += std::string(i == 1 ? "" : ",") + R"({"reference":"#)" + ParseJson(contained[i])["id"].GetString() + R"("})";
  }
  std::string first_id = ParseJson(contained[0])["id"].GetString();
  return body + R"(],"status":"active","intent":"order","medicationReference":{"reference":"#)" + first_id +
         R"("},"subject":{"reference":"Patient/p1"})" + (others.empty() ? "" : R"(,"supportingInformation":[)" + others + "]") + "}";
}

class ContainedSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<testing::TempDir>();
    server_ = std::make_unique<testing::ServerProcess>(dir_->path());
    Put(R"({"resourceType":"Patient","id":"p1","name":[{"family":"Top"}]})");
    Put(Medication("top", "111"));
    Put(Request("mr1", {Medication("med1", "111")}));
    Put(Request("mr2", {Medication("a", "111"), Medication("b", "222")}));
    Put(R"({"resourceType":"Observation","id":"obs1","contained":[{"resourceType":"Patient","id":"pat","name":[{"family":"Inside"}]}],
            "status":"final","code":{"text":"weight"},"subject":{"reference":"#pat"}})");
  }

  void Put(const std::string& body) {
    HttpClient client = Client();
    HttpResult put = testing::PutResource(client, body);
    ASSERT_LT(put.status, 300) << put.body;
  }
  HttpClient Client() const { return HttpClient(server_->port()); }

  // "Type/id" of each match, in order (or the status when it is not 200).
  Ids Find(const std::string& query) const {
    HttpResult result = Client().Get("/fhir/" + query);
    if (result.status != 200) return {"status " + std::to_string(result.status)};
    return Matches(ParseJson(result.body));
  }
  static Ids Matches(const rapidjson::Document& bundle) {
    Ids ids;
    if (!bundle.HasMember("entry")) return ids;
    for (const auto& entry : bundle["entry"].GetArray()) {
      if (std::string(entry["search"]["mode"].GetString()) != "match") continue;
      ids.push_back(std::string(entry["resource"]["resourceType"].GetString()) + "/" + entry["resource"]["id"].GetString());
    }
    return ids;
  }
  static Ids Sorted(Ids ids) {
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<testing::ServerProcess> server_;
};

TEST_F(ContainedSearchTest, SearchesFindResourcesAloneByDefault) {
  EXPECT_EQ(Find("Medication?code=111"), Ids({"Medication/top"}));
  EXPECT_EQ(Find("Medication?code=111&_contained=false"), Ids({"Medication/top"}));
  EXPECT_EQ(Find("Patient?family=inside"), Ids());
  EXPECT_EQ(Find("Medication"), Ids({"Medication/top"}));
}

TEST_F(ContainedSearchTest, ContainedMatchesAreAnsweredByTheirContainerOnce) {
  EXPECT_EQ(Sorted(Find("Medication?code=111&_contained=true")), Ids({"MedicationRequest/mr1", "MedicationRequest/mr2"}));
  EXPECT_EQ(Find("Medication?code=222&_contained=true"), Ids({"MedicationRequest/mr2"}));
  // mr2 holds two Medications: it comes once.
  EXPECT_EQ(Sorted(Find("Medication?_contained=true")), Ids({"MedicationRequest/mr1", "MedicationRequest/mr2"}));
  EXPECT_EQ(Find("Patient?family=inside&_contained=true"), Ids({"Observation/obs1"}));
  EXPECT_EQ(Find("Patient?family=top&_contained=true"), Ids());
}

TEST_F(ContainedSearchTest, ContainedMatchesAnsweredAloneCarryTheirContainersUrl) {
  HttpResult result = Client().Get("/fhir/Medication?code=111&_contained=true&_containedType=contained");
  ASSERT_EQ(result.status, 200) << result.body;
  auto bundle = ParseJson(result.body);
  EXPECT_EQ(Sorted(Matches(bundle)), Ids({"Medication/a", "Medication/med1"}));
  std::vector<std::string> urls;
  for (const auto& entry : bundle["entry"].GetArray()) {
    urls.push_back(entry["fullUrl"].GetString());
    EXPECT_EQ(std::string(entry["resource"]["code"]["coding"][0]["code"].GetString()), "111");
  }
  std::sort(urls.begin(), urls.end());
  ASSERT_EQ(urls.size(), 2u);
  EXPECT_TRUE(urls[0].ends_with("/fhir/MedicationRequest/mr1#med1")) << urls[0];
  EXPECT_TRUE(urls[1].ends_with("/fhir/MedicationRequest/mr2#a")) << urls[1];
  EXPECT_EQ(Sorted(Find("Medication?_contained=true&_containedType=contained")),
            Ids({"Medication/a", "Medication/b", "Medication/med1"}));
  // _elements applies to what is answered.
  HttpResult subset = Client().Get("/fhir/Medication?code=222&_contained=true&_containedType=contained&_elements=id");
  ASSERT_EQ(subset.status, 200);
  auto subset_bundle = ParseJson(subset.body);
  auto only = subset_bundle["entry"][0]["resource"].GetObject();
  EXPECT_FALSE(only.HasMember("code"));
  EXPECT_EQ(std::string(only["id"].GetString()), "b");
}

TEST_F(ContainedSearchTest, BothFindsResourcesThenContainedOnes) {
  EXPECT_EQ(Find("Medication?code=111&_contained=both&_containedType=contained"),
            Ids({"Medication/top", "Medication/med1", "Medication/a"}));
  EXPECT_EQ(Find("Medication?code=111&_contained=both"), Ids({"Medication/top", "MedicationRequest/mr1", "MedicationRequest/mr2"}));
  // Paged one at a time, through the cursor that names the part.
  HttpClient client = Client();
  auto walk = testing::WalkPages(client, "/fhir/Medication?code=111&_contained=both&_containedType=contained&_count=1", "next", 10);
  EXPECT_EQ(testing::Flatten(walk.pages), Ids({"top", "med1", "a"}));
}

// With _sort, resources and contained resources are merged by the sort keys; on equal keys the
// resources come first. Paged one at a time, the walk gives the same order.
TEST_F(ContainedSearchTest, BothSortedMergesResourcesAndContainedOnes) {
  EXPECT_EQ(Find("Medication?_contained=both&_containedType=contained&_sort=-code"),
            Ids({"Medication/b", "Medication/top", "Medication/med1", "Medication/a"}));
  EXPECT_EQ(Find("Medication?_contained=both&_containedType=contained&_sort=code,-_id"),
            Ids({"Medication/top", "Medication/med1", "Medication/a", "Medication/b"}));
  // A container once per page: mr2 holds a (111) and b (222).
  EXPECT_EQ(Find("Medication?_contained=both&_sort=code"), Ids({"Medication/top", "MedicationRequest/mr1", "MedicationRequest/mr2"}));
  HttpClient client = Client();
  for (const std::string order : {"code", "-code", "-_id"}) {
    const std::string query = "Medication?_contained=both&_containedType=contained&_sort=" + order;
    auto walk = testing::WalkPages(client, "/fhir/" + query + "&_count=1&_total=accurate", "next", 10);
    Ids walked;
    for (const std::string& id : testing::Flatten(walk.pages)) walked.push_back("Medication/" + id);
    EXPECT_EQ(walked, Find(query)) << order;
    HttpResult last = client.Get(walk.last);
    auto bundle = ParseJson(last.body);
    EXPECT_EQ(bundle["total"].GetInt(), 4) << order;
    EXPECT_EQ(testing::BundleLink(bundle, "previous"), "") << order;  // merged pages go forward only
  }
}

TEST_F(ContainedSearchTest, CountsAndPagesCountEachContainerOnce) {
  HttpResult count = Client().Get("/fhir/Medication?_contained=true&_summary=count");
  ASSERT_EQ(count.status, 200);
  EXPECT_EQ(ParseJson(count.body)["total"].GetInt(), 2);
  HttpResult alone = Client().Get("/fhir/Medication?_contained=true&_containedType=contained&_summary=count");
  EXPECT_EQ(ParseJson(alone.body)["total"].GetInt(), 3);
  HttpResult coded = Client().Get("/fhir/Medication?code=111,222&_contained=true&_total=accurate");
  EXPECT_EQ(ParseJson(coded.body)["total"].GetInt(), 2);
  // A page of one container at a time: mr2's two Medications do not bring it twice.
  HttpClient client = Client();
  for (const std::string order : {"", "&_sort=code"}) {
    auto walk = testing::WalkPages(client, "/fhir/Medication?_contained=true&_count=1" + order, "next", 10);
    EXPECT_EQ(Sorted(testing::Flatten(walk.pages)), Ids({"mr1", "mr2"})) << order;
  }
  // And back from the last page.
  auto forward = testing::WalkPages(client, "/fhir/Medication?_contained=true&_count=1", "next", 10);
  auto back = testing::WalkPages(client, forward.last, "previous", 10);
  EXPECT_EQ(Sorted(testing::Flatten(back.pages)), Ids({"mr1", "mr2"}));
}

TEST_F(ContainedSearchTest, ContainedResourcesFollowTheirContainersCurrentVersion) {
  Put(Request("mr2", {Medication("a", "333")}));  // b is gone, a changed
  EXPECT_EQ(Find("Medication?code=222&_contained=true"), Ids());
  EXPECT_EQ(Find("Medication?code=111&_contained=true"), Ids({"MedicationRequest/mr1"}));
  EXPECT_EQ(Find("Medication?code=333&_contained=true"), Ids({"MedicationRequest/mr2"}));
  ASSERT_EQ(Client().Delete("/fhir/MedicationRequest/mr1").status, 204);
  EXPECT_EQ(Find("Medication?code=111&_contained=true"), Ids());
  EXPECT_EQ(Find("Medication?code=111"), Ids({"Medication/top"}));
  // A container without contained resources any more.
  Put(R"({"resourceType":"Observation","id":"obs1","status":"final","code":{"text":"weight"}})");
  EXPECT_EQ(Find("Patient?_contained=true"), Ids());
}

TEST_F(ContainedSearchTest, ContainedResourcesAreIndexedByReindexAndImport) {
  server_.reset();
  auto reindex = testing::RunChartkeeper("reindex", dir_->path(), {});
  ASSERT_EQ(reindex.exit_code, 0) << reindex.output;
  server_ = std::make_unique<testing::ServerProcess>(dir_->path());
  EXPECT_EQ(Sorted(Find("Medication?code=111&_contained=true")), Ids({"MedicationRequest/mr1", "MedicationRequest/mr2"}));
  EXPECT_EQ(Find("Patient?family=inside&_contained=true"), Ids({"Observation/obs1"}));

  // A bulk import stages its index rows, the contained resources' too.
  testing::TempDir imported;
  {
    std::ofstream file(imported.path() / "in.ndjson");
    file << Request("mr9", {Medication("x", "999"), Medication("y", "999")}) << "\n" << Medication("loose", "999") << "\n";
  }
  auto import = testing::RunChartkeeper("import", imported.path() / "data", {(imported.path() / "in.ndjson").string()});
  ASSERT_EQ(import.exit_code, 0) << import.output;
  server_ = std::make_unique<testing::ServerProcess>(imported.path() / "data");
  EXPECT_EQ(Find("Medication?code=999"), Ids({"Medication/loose"}));
  EXPECT_EQ(Find("Medication?code=999&_contained=true"), Ids({"MedicationRequest/mr9"}));
  EXPECT_EQ(Find("Medication?code=999&_contained=true&_containedType=contained"), Ids({"Medication/x", "Medication/y"}));
}

TEST_F(ContainedSearchTest, IncludesFollowTheContainedResourcesReferences) {
  Put(R"({"resourceType":"Observation","id":"obs2","contained":[{"resourceType":"Observation","id":"part","status":"final",
          "code":{"text":"part"},"subject":{"reference":"Patient/p1"}}],"status":"final","code":{"text":"whole"},
          "hasMember":[{"reference":"#part"}]})");
  HttpResult result = Client().Get("/fhir/Observation?code:text=part&_contained=true&_include=Observation:subject");
  ASSERT_EQ(result.status, 200) << result.body;
  auto bundle = ParseJson(result.body);
  Ids included;
  for (const auto& entry : bundle["entry"].GetArray()) {
    if (std::string(entry["search"]["mode"].GetString()) == "include") included.push_back(entry["resource"]["id"].GetString());
  }
  EXPECT_EQ(Matches(bundle), Ids({"Observation/obs2"}));
  EXPECT_EQ(included, Ids({"p1"}));
  // The patient's compartment holds the contained Observation's container through its subject.
  EXPECT_EQ(Find("Patient/p1/Observation?_contained=true"), Ids({"Observation/obs2"}));
  EXPECT_EQ(Find("Patient/p1/Observation"), Ids());
}

TEST_F(ContainedSearchTest, BadValuesAreRefused) {
  for (const std::string query : {"Medication?_contained=yes", "Medication?_containedType=all", "Medication?_contained:exact=true",
                                  "Medication?_contained=both&_sort=code&_cursor=2.s3:111i1;", "Medication?_contained=both&_sort=code&_cursor=0.s3:111"}) {
    HttpResult result = Client().Get("/fhir/" + query);
    EXPECT_EQ(result.status, 400) << query << ": " << result.body;
    EXPECT_NE(result.body.find("OperationOutcome"), std::string::npos) << query;
  }
}

}  // namespace
}  // namespace ck
