// The 568 official R4 examples (../shared/testdata/r4-examples) through the whole validation of
// a write: read and bound, then bindings, invariants, claimed profiles and extensions. Each one
// meets every rule, or its errors are faults of the example that the specification's own rules
// name, listed below with the reason.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "fhir/json_reader.h"
#include "validation/validator.h"

namespace ck::validation {
namespace {

const std::filesystem::path kExamples =
    std::filesystem::path(CK_SOURCE_DIR) / ".." / "shared" / "testdata" / "r4-examples";

// Examples with errors, each with why it is the example's fault.
const std::map<std::string, std::string> kExpectedFaults = {
    {"activitydefinition-servicerequest-example.json", "its narrative div is empty, against txt-2 (the narrative should have some non-whitespace content)"},
    {"activitydefinition-supplyrequest-example.json", "its narrative div is empty, against txt-2"},
    {"eventdefinition-example.json", "its narrative div is empty, against txt-2"},
};

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(OfficialExamplesTest, EveryExampleValidatesOrHasADocumentedFault) {
  const fhir::Definitions& definitions = fhir::Definitions::R4();
  ProfileRegistry profiles(definitions);
  Validator validator(definitions, terminology::ValueSets::R4(), InvariantCheck::R4(), profiles, false);
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(kExamples)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GT(files.size(), 500u);
  int valid = 0, faulty = 0;
  for (const auto& file : files) {
    const std::string name = file.filename().string();
    std::string problems;
    auto resource = fhir::ReadResource(ReadFile(file), definitions, {.max_depth = 128});
    if (!resource) {
      problems = resource.error().ToString();
    } else {
      for (const Issue& issue : validator.Validate(*resource, {.max_issues = 20})) {
        if (issue.IsError()) problems += "\n  " + issue.expression + ": " + issue.message;
      }
    }
    auto expected = kExpectedFaults.find(name);
    if (problems.empty()) {
      ++valid;
      EXPECT_EQ(expected, kExpectedFaults.end()) << name << " is listed as faulty but validates";
    } else {
      ++faulty;
      EXPECT_NE(expected, kExpectedFaults.end()) << name << ":" << problems;
    }
  }
  std::printf("r4-examples: %zu examples, %d valid, %d with documented faults\n", files.size(), valid, faulty);
}

}  // namespace
}  // namespace ck::validation
