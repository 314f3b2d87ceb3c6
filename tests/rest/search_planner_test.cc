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

// A small set that is not one index range (a patient's compartment) is read whole and its
// matches ordered; a small one that is (the rare code, 60) is read in order like a large one.
TEST_F(SearchPlannerTest, ASmallSetIsReadWholeUnlessItComesInOrder) {
  EXPECT_EQ(Walk("Observation?code=2222-2&_count=7"), Expected([](const Made& m) { return m.code == "rare"; }));
  EXPECT_EQ(Walk("Observation?code=1111-1&code=2222-2"), std::vector<std::string>{});
  EXPECT_EQ(Walk("Observation?code=2222-2&subject=Patient/pb&date=ge2020-02-15"),
            Expected([](const Made& m) { return m.code == "rare" && m.patient == "pb" && (m.month > 2 || (m.month == 2 && m.day >= 15)); }));
  EXPECT_EQ(Walk("Patient/pb/Observation?code=1111-1&date=2020-03&_count=50"),
            Expected([](const Made& m) { return m.code == "common" && m.patient == "pb" && m.month == 3; }));
}

// Two values of a large set (not one index range), only negative conditions, or no condition:
// the type's resources in rid order, each tested.
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

}  // namespace
}  // namespace ck
