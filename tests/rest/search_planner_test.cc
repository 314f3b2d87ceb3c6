// The search planner picks where a search's candidates come from (a small set read whole, a
// large set read in rid order that stops when the page is full, or a scan of the type); each plan
// must give exactly the matches, in the same order, page after page. The data crosses the
// planner's threshold (2,000): one code on 2,400 Observations, another on 60, over three months
// and two patients. Each search is checked against the type's full listing filtered by what the
// test knows of each resource.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>

#include "support/chartkeeper_command.h"
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

struct Made {
  std::string code;     // "common" or "rare"
  int month;            // 1 to 3 of 2020
  int day;              // 1 to 28
  std::string patient;  // "pa" or "pb"
};

class SearchPlannerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    made_ = new std::map<std::string, Made>();
    const std::filesystem::path file = dir_->path() / "observations.ndjson";
    {
      std::ofstream out(file);
      out << R"({"resourceType":"Patient","id":"pa"})" << "\n" << R"({"resourceType":"Patient","id":"pb"})" << "\n";
      for (int i = 0; i < 2460; ++i) {
        Made m{i % 41 == 0 ? "rare" : "common", 1 + (i / 28) % 3, 1 + i % 28, i % 5 == 0 ? "pb" : "pa"};
        const std::string id = "o" + std::to_string(i);
        char date[32];
        std::snprintf(date, sizeof date, "2020-%02d-%02dT12:00:00Z", m.month, m.day);
        out << R"({"resourceType":"Observation","id":")" << id << R"(","status":"final","code":{"coding":[{"system":"http://loinc.org","code":")"
            << (m.code == "common" ? "1111-1" : "2222-2") << R"("}]},"subject":{"reference":"Patient/)" << m.patient
            << R"("},"effectiveDateTime":")" << date << "\"}\n";
        (*made_)[id] = m;
      }
    }
    auto imported = testing::RunChartkeeper("import", dir_->path() / "data", {file.string()});
    ASSERT_EQ(imported.exit_code, 0) << imported.output;
    server_ = new testing::ServerProcess(dir_->path() / "data");
    listing_ = new std::vector<std::string>(Walk("Observation?_count=1000"));
    ASSERT_EQ(listing_->size(), made_->size());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete listing_;
    delete made_;
    delete dir_;
  }

  // The ids of every page of a search, following its next links; and, walking back from the
  // last page by its previous links, the same pages (checked here).
  static std::vector<std::string> Walk(const std::string& query) {
    HttpClient client(server_->port());
    testing::SearchPages forward = testing::WalkPages(client, "/fhir/" + query);
    testing::SearchPages back = testing::WalkPages(client, forward.last, "previous");
    std::reverse(back.pages.begin(), back.pages.end());
    EXPECT_EQ(back.pages, forward.pages) << "walking back " << query;
    return testing::Flatten(forward.pages);
  }
  // The full listing (rid order) filtered by what the test made.
  static std::vector<std::string> Expected(const std::function<bool(const Made&)>& keep) {
    std::vector<std::string> ids;
    for (const std::string& id : *listing_) {
      if (keep(made_->at(id))) ids.push_back(id);
    }
    return ids;
  }
  static int Count(const std::string& query) {
    HttpResult result = HttpClient(server_->port()).Get("/fhir/" + query + "&_summary=count");
    EXPECT_EQ(result.status, 200) << result.body;
    return ParseJson(result.body)["total"].GetInt();
  }

  static testing::TempDir* dir_;
  static testing::ServerProcess* server_;
  static std::map<std::string, Made>* made_;
  static std::vector<std::string>* listing_;
};

testing::TempDir* SearchPlannerTest::dir_ = nullptr;
testing::ServerProcess* SearchPlannerTest::server_ = nullptr;
std::map<std::string, Made>* SearchPlannerTest::made_ = nullptr;
std::vector<std::string>* SearchPlannerTest::listing_ = nullptr;

// The common code (2,400 resources) drives in rid order; the month is tested on each.
TEST_F(SearchPlannerTest, ALargeSetDrivesInItsOwnOrderPageByPage) {
  auto expected = Expected([](const Made& m) { return m.code == "common" && m.month == 2; });
  EXPECT_EQ(Walk("Observation?code=http://loinc.org|1111-1&date=2020-02&_count=97"), expected);
  EXPECT_EQ(Walk("Observation?code=1111-1&date=2020-02&_count=500"), expected);  // any system
  EXPECT_EQ(Count("Observation?code=1111-1&date=2020-02"), static_cast<int>(expected.size()));
  auto first_page = Walk("Observation?code=1111-1&_count=1000");
  EXPECT_EQ(first_page, Expected([](const Made& m) { return m.code == "common"; }));
}

// A small set that comes in rid order (the rare code, 60) is read in order like a large one;
// with other sets in rid order (a patient, a compartment) it is intersected with them.
TEST_F(SearchPlannerTest, ASmallSetInOrderIsReadInOrder) {
  EXPECT_EQ(Walk("Observation?code=2222-2&_count=7"), Expected([](const Made& m) { return m.code == "rare"; }));
  EXPECT_EQ(Walk("Observation?code=1111-1&code=2222-2"), std::vector<std::string>{});
  EXPECT_EQ(Walk("Observation?code=2222-2&subject=Patient/pb&date=ge2020-02-15"),
            Expected([](const Made& m) { return m.code == "rare" && m.patient == "pb" && (m.month > 2 || (m.month == 2 && m.day >= 15)); }));
  EXPECT_EQ(Walk("Patient/pb/Observation?code=1111-1&date=2020-03&_count=50"),
            Expected([](const Made& m) { return m.code == "common" && m.patient == "pb" && m.month == 3; }));
}

// Two values of a large set (a union of index ranges, merged in rid order), only negative
// conditions, or no condition: the candidates come in rid order, each tested.
TEST_F(SearchPlannerTest, WithoutADrivingSetTheTypeIsScanned) {
  EXPECT_EQ(Walk("Observation?code=1111-1,2222-2&date=2020-01&_count=200"), Expected([](const Made& m) { return m.month == 1; }));
  EXPECT_EQ(Walk("Observation?code:not=1111-1&_count=13"), Expected([](const Made& m) { return m.code == "rare"; }));
  EXPECT_EQ(Count("Observation?code=1111-1,2222-2&date=2020-01"), static_cast<int>(Expected([](const Made& m) { return m.month == 1; }).size()));
}

// With _sort the whole driving set is read, then ordered: by date (latest first), then rid.
TEST_F(SearchPlannerTest, SortedSearchesOrderTheWholeSet) {
  std::vector<std::string> expected = Expected([](const Made& m) { return m.code == "common" && m.patient == "pb"; });
  std::stable_sort(expected.begin(), expected.end(), [](const std::string& a, const std::string& b) {
    const Made& x = made_->at(a);
    const Made& y = made_->at(b);
    return std::make_pair(x.month, x.day) > std::make_pair(y.month, y.day);
  });
  EXPECT_EQ(Walk("Observation?code=1111-1&subject=Patient/pb&_sort=-date&_count=33"), expected);
  std::vector<std::string> common = Expected([](const Made& m) { return m.code == "common"; });
  std::stable_sort(common.begin(), common.end(), [](const std::string& a, const std::string& b) {
    const Made& x = made_->at(a);
    const Made& y = made_->at(b);
    return std::make_pair(x.month, x.day) < std::make_pair(y.month, y.day);
  });
  EXPECT_EQ(Walk("Observation?code=1111-1&_sort=date&_count=400"), common);
}

// Conditions met through index ranges in rid order (a patient, a code, a compartment's
// parameters) are intersected by seeking from one range to the next: the matches come in rid
// order, each once (also one with the code under two systems), never a deleted one, with any
// other condition tested on each; and the count agrees.
TEST_F(SearchPlannerTest, SetsInRidOrderAreIntersected) {
  HttpClient client(server_->port());
  std::vector<std::string> pb_with_code, pb_with_code_in_february, pb_all;
  for (int i = 0; i < 300; ++i) {
    const std::string id = "c" + std::to_string(i);
    const bool pb = i % 3 == 0;
    const bool with_code = i % 7 == 0;
    const int month = 1 + (i / 7) % 3;
    std::string coding = with_code ? R"({"system":"http://snomed.info/sct","code":"44054006"},{"system":"http://example.org/local","code":"44054006"})"
                                   : R"({"system":"http://snomed.info/sct","code":"38341003"})";
    const std::string body = R"({"resourceType":"Condition","id":")" + id + R"(","subject":{"reference":"Patient/)" + (pb ? "pb" : "pa") +
                             R"("},"code":{"coding":[)" + coding + R"(]},"onsetDateTime":"2020-0)" + std::to_string(month) + R"(-01"})";
    ASSERT_EQ(client.Put("/fhir/Condition/" + id, body, {{"Content-Type", "application/fhir+json"}}).status, 201) << id;
    if (pb && i != 21) pb_all.push_back(id);
    if (pb && with_code && i != 21) pb_with_code.push_back(id);
    if (pb && with_code && i != 21 && month == 2) pb_with_code_in_february.push_back(id);
  }
  ASSERT_EQ(client.Delete("/fhir/Condition/c21").status, 204);  // of pb, with the code
  ASSERT_GE(pb_with_code.size(), 10u);

  EXPECT_EQ(Walk("Condition?subject=Patient/pb&code=44054006&_count=4"), pb_with_code);
  EXPECT_EQ(Walk("Condition?code=http://snomed.info/sct|44054006&patient=pb&_count=1"), pb_with_code);
  EXPECT_EQ(Walk("Patient/pb/Condition?code=44054006&_count=3"), pb_with_code);
  EXPECT_EQ(Walk("Patient/pb/Condition?_count=17"), pb_all);
  EXPECT_EQ(Walk("Condition?subject=Patient/pb&code=44054006,38341003&_count=25"), pb_all);
  EXPECT_EQ(Walk("Condition?subject=Patient/pb&code=44054006&onset-date=2020-02&_count=2"), pb_with_code_in_february);
  EXPECT_EQ(Walk("Condition?subject=Patient/pb&code=44054006&code=38341003"), std::vector<std::string>{});
  EXPECT_EQ(Walk("Condition?subject=Patient/no-one&code=44054006"), std::vector<std::string>{});
  EXPECT_EQ(Count("Condition?subject=Patient/pb&code=44054006"), static_cast<int>(pb_with_code.size()));
  EXPECT_EQ(Count("Patient/pb/Condition?code=44054006&onset-date=2020-02"), static_cast<int>(pb_with_code_in_february.size()));
  EXPECT_EQ(Count("Patient/pb/Condition?_count=5"), static_cast<int>(pb_all.size()));
  EXPECT_EQ(Walk("Patient/pb/Patient"), std::vector<std::string>{"pb"});
}

}  // namespace
}  // namespace ck

namespace ck {
namespace {

// _explain=true: the Bundle's outcome entry says which plan ran and why, condition by condition,
// with the planner's estimate, the actual size, SQLite's own plan and the time; the matches are
// those of the same search without it.
std::vector<std::string> Explanation(const std::string& body) {
  std::vector<std::string> lines;
  auto bundle = testing::ParseJson(body);
  for (const auto& entry : bundle["entry"].GetArray()) {
    if (std::string(entry["resource"]["resourceType"].GetString()) != "OperationOutcome") continue;
    for (const auto& issue : entry["resource"]["issue"].GetArray()) lines.push_back(issue["diagnostics"].GetString());
  }
  return lines;
}

TEST_F(SearchPlannerTest, ExplainSaysWhichPlanRanWithEstimatedAndActualRows) {
  HttpClient client(server_->port());
  HttpResult small = client.Get("/fhir/Observation?code=2222-2&date=2020-02&_explain=true");
  ASSERT_EQ(small.status, 200) << small.body;
  std::vector<std::string> lines = Explanation(small.body);
  ASSERT_GE(lines.size(), 4u) << small.body;
  EXPECT_EQ(lines[0], "plan: one index range in creation order, read until the page is full, from code (search_token)");
  EXPECT_EQ(lines[1], "condition code (search_token): estimated 60 rows, actual 60; drives the search");
  const std::size_t in_february = Expected([](const Made& m) { return m.month == 2; }).size();
  EXPECT_TRUE(lines[2].starts_with("condition date (search_date): estimated ")) << lines[2];
  EXPECT_TRUE(lines[2].ends_with(" rows, actual " + std::to_string(in_february) + "; tested on each candidate")) << lines[2];
  EXPECT_TRUE(lines[3].starts_with("SQLite: ")) << lines[3];
  EXPECT_TRUE(lines.back().starts_with("page: ")) << lines.back();
  EXPECT_NE(lines.back().find(" ms"), std::string::npos);

  HttpResult sorted = client.Get("/fhir/Observation?code=2222-2&_sort=date&_explain=true");
  ASSERT_EQ(sorted.status, 200);
  EXPECT_EQ(Explanation(sorted.body)[0], "plan: a small set read whole, its matches then ordered, from code (search_token)");

  HttpResult large = client.Get("/fhir/Observation?code=1111-1&_count=10&_explain=true");
  ASSERT_EQ(large.status, 200);
  lines = Explanation(large.body);
  EXPECT_EQ(lines[0], "plan: one index range in creation order, read until the page is full, from code (search_token)");
  EXPECT_EQ(lines[1], "condition code (search_token): estimated 2000 or more rows, actual 2400; drives the search");
  EXPECT_EQ(lines.back().substr(0, 28), "page: 10 matches and more in");

  // The next page looks each candidate up by its rid: the cursor's bound stays on the range that
  // drives (a bound carried over to the resource table made each lookup a range: 10 s a page at
  // 1 M resources).
  auto next = testing::BundleLink(testing::ParseJson(large.body), "next");
  ASSERT_FALSE(next.empty());
  lines = Explanation(client.Get(next).body);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_NE(lines[2].find("SEARCH r USING COVERING INDEX resource_by_rid (type_id=? AND rid=?"), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("rid>?"), std::string::npos) << "the bound seeks in the driving range: " << lines[2];
  EXPECT_EQ(lines[2].find("resource_by_rid (type_id=? AND rid>?"), std::string::npos) << lines[2];

  HttpResult scan = client.Get("/fhir/Observation?code:not=2222-2&_count=5&_explain=true");
  lines = Explanation(scan.body);
  EXPECT_EQ(lines[0], "plan: a scan of the type's resources in creation order, each candidate tested");
  EXPECT_EQ(lines[1], "condition code:not (search_token): tested on each candidate (it cannot drive)");

  // The answer is the same without it; a bad value is refused.
  auto ids = [](const std::string& body) {
    std::vector<std::string> out;
    auto bundle = testing::ParseJson(body);
    for (const auto& entry : bundle["entry"].GetArray()) {
      if (entry["resource"].HasMember("id")) out.push_back(entry["resource"]["id"].GetString());
    }
    return out;
  };
  EXPECT_EQ(ids(small.body), ids(client.Get("/fhir/Observation?code=2222-2&date=2020-02").body));
  EXPECT_EQ(client.Get("/fhir/Observation?code=2222-2&_explain=yes").status, 400);
  lines = Explanation(client.Get("/fhir/Basic?_explain=true").body);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "plan: none (no Basic was ever stored, so nothing can match)");
}

}  // namespace
}  // namespace ck
