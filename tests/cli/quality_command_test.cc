// `chartkeeper quality` as a user runs it: on a data folder filled by `chartkeeper import`, a
// table on stdout and the same report as JSON; an unknown type is refused.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/chartkeeper_command.h"
#include "support/json.h"
#include "support/temp_dir.h"

namespace ck::cli {
namespace {

TEST(QualityCommandTest, ReportsAsATableAndAsJson) {
  testing::TempDir dir;
  std::ofstream(dir.path() / "in.ndjson")
      << R"({"resourceType":"Patient","id":"a","managingOrganization":{"reference":"Organization/none"}})" << "\n"
      << R"({"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/a"}})" << "\n";
  auto imported = testing::RunChartkeeper("import", dir.path() / "var", {(dir.path() / "in.ndjson").string()});
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  const auto json_file = dir.path() / "report.json";
  auto run = testing::RunChartkeeper("quality", dir.path() / "var", {"--json", json_file.string()});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("Patient: 1 checked, 0 with errors, 1 with warnings, 1 unresolved references"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("unresolved: Patient/a -> Organization/none"), std::string::npos) << run.output;
  std::stringstream text;
  text << std::ifstream(json_file).rdbuf();
  auto json = testing::ParseJson(text.str());
  ASSERT_TRUE(json.IsObject()) << text.str();
  EXPECT_EQ(json["types"].Size(), 2u);
  auto only = testing::RunChartkeeper("quality", dir.path() / "var", {"--type", "Observation"});
  EXPECT_EQ(only.exit_code, 0) << only.output;
  EXPECT_EQ(only.output.find("Patient:"), std::string::npos) << only.output;
  auto bad = testing::RunChartkeeper("quality", dir.path() / "var", {"--type", "Robot"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("unknown resource type 'Robot'"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace ck::cli
