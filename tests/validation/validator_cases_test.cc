// The official FHIR validator test cases for R4 (../shared/testdata/validator, 99 cases): each
// case's resource is validated as a write is (read and bound, then bindings, invariants,
// profiles), without and, where the case has one, with its profile; the errors found (their count
// and their element paths) must match the reference validator's. A case is skipped, with the
// reason, when it is in XML or when the reference outcome rests on what a validator on its own
// lacks (a terminology server for displays and external code systems, resources fetched from
// elsewhere). Where Chartkeeper and the reference validator still differ,
// the run is listed in validator_case_differences.txt with why; the test fails when a listed
// run starts to agree (so the list only shrinks) or an unlisted one differs.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "fhir/json_reader.h"
#include "support/json.h"
#include "util/text.h"
#include "validation/validator.h"

namespace ck::validation {
namespace {

const std::filesystem::path kValidator = std::filesystem::path(CK_SOURCE_DIR) / ".." / "shared" / "testdata" / "validator";
const std::filesystem::path kDifferences = std::filesystem::path(CK_SOURCE_DIR) / "tests" / "validation" / "validator_case_differences.txt";

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "Bundle.entry[0].resource/*Patient/1*/.value.ofType(Quantity)" -> "Bundle.entry[0].resource.valueQuantity":
// the reference validator's FHIRPath written as Chartkeeper writes locations.
std::string Normalize(std::string path) {
  static const std::regex comment(R"(/\*.*?\*/)");
  static const std::regex of_type(R"(\.ofType\((\w)(\w*)\))");
  path = std::regex_replace(path, comment, "");
  std::smatch m;
  while (std::regex_search(path, m, of_type)) {
    path = m.prefix().str() + std::string(1, static_cast<char>(std::toupper(m[1].str()[0]))) + m[2].str() + m.suffix().str();
  }
  return path;
}

// What a reference outcome says, and whether it leans on what a validator on its own lacks.
struct Reference {
  std::vector<std::string> errors;  // normalized paths of the errors, sorted
  std::string needs;                // non-empty: what the case needs that is not here
};

Reference ReadReference(const rapidjson::Value& java) {
  Reference reference;
  if (java.IsObject() && java.HasMember("errorCount")) {
    reference.errors.assign(java["errorCount"].GetInt(), "?");
    return reference;
  }
  auto outcome = testing::ParseJson(ReadFile(kValidator / "outcomes" / java.GetString()));
  if (!outcome.HasMember("issue")) return reference;
  for (const auto& issue : outcome["issue"].GetArray()) {
    std::string severity = issue["severity"].GetString();
    if (severity != "error" && severity != "fatal") continue;
    std::string text = issue.HasMember("details") && issue["details"].HasMember("text") ? issue["details"]["text"].GetString() : "";
    static const std::pair<std::string_view, std::string_view> kNeeds[] = {
        {"Display", "a terminology server (code displays)"},
        {"display", "a terminology server (code displays)"},
        {"terminology server", "a terminology server"},
        {"Unknown code", "a terminology server (codes of external code systems)"},
        {"not found in the CodeSystem", "a terminology server (codes of external code systems)"},
        {"references a value set, not a code system", "a terminology server (code system lookups)"},
        {"Unable to resolve resource", "the referenced resources, fetched from elsewhere"},
        {"Unable to resolve the profile", "a profile from a package the case does not ship"},
    };
    for (const auto& [marker, needs] : kNeeds) {
      if (text.find(marker) != std::string::npos) reference.needs = std::string(needs) + ": " + text.substr(0, 100);
    }
    std::string path = issue.HasMember("expression") ? issue["expression"][0].GetString() : "?";
    reference.errors.push_back(Normalize(path));
  }
  std::sort(reference.errors.begin(), reference.errors.end());
  return reference;
}

std::map<std::string, std::string> ReadDifferences() {
  std::map<std::string, std::string> out;
  const std::string text = ReadFile(kDifferences);
  for (std::string_view line : Split(text, '\n')) {
    if (line.empty() || line.starts_with('#')) continue;
    std::size_t tab = line.find('\t');
    out.emplace(std::string(line.substr(0, tab)), tab == std::string_view::npos ? "" : std::string(line.substr(tab + 1)));
  }
  return out;
}

class CaseRunner {
 public:
  // Loads the StructureDefinitions among `files` into the case's registry; false if one is XML.
  bool Load(const std::vector<std::string>& files, std::string& skip) {
    for (const std::string& file : files) {
      if (!file.ends_with(".json")) {
        skip = "its supporting " + file + " is XML, which this server does not read";
        return false;
      }
      auto tree = fhir::ParseJsonTree(ReadFile(kValidator / "cases" / file), {.max_depth = 128});
      if (!tree || tree->TextOf("resourceType") != "StructureDefinition") continue;  // value sets: built in only, for now
      if (Status added = registry_.Add(*tree); !added.ok()) load_errors_.push_back("StructureDefinition");
      if (profile_url_.empty()) profile_url_ = std::string(tree->TextOf("url"));
    }
    return true;
  }
  void ClearProfileUrl() { profile_url_.clear(); }
  const std::string& profile_url() const { return profile_url_; }

  // The sorted paths of the errors found in `file` (against `profile` too, when given).
  std::vector<std::string> Errors(const std::string& file, const std::string& profile) {
    std::vector<std::string> errors = load_errors_;
    const fhir::Definitions& definitions = fhir::Definitions::R4();
    auto resource = fhir::ReadResource(ReadFile(kValidator / "cases" / file), definitions, {.max_depth = 128});
    if (!resource) {
      for (const Issue& issue : resource.error().issues()) errors.push_back(issue.expression.empty() ? "?" : issue.expression);
      if (resource.error().issues().empty()) errors.push_back("?");
    } else {
      Validator validator(definitions, terminology::ValueSets::R4(), InvariantCheck::R4(), registry_, false);
      std::vector<std::string> profiles;
      if (!profile.empty()) profiles.push_back(profile);
      for (const Issue& issue : validator.Validate(*resource, {.max_issues = 200}, profiles)) {
        if (issue.IsError()) errors.push_back(issue.expression.empty() ? "?" : issue.expression);
      }
    }
    std::sort(errors.begin(), errors.end());
    return errors;
  }

 private:
  ProfileRegistry registry_{fhir::Definitions::R4()};
  std::string profile_url_;
  std::vector<std::string> load_errors_;
};

std::vector<std::string> Strings(const rapidjson::Value& object, const char* name) {
  std::vector<std::string> out;
  if (object.HasMember(name)) {
    for (const auto& value : object[name].GetArray()) out.push_back(value.GetString());
  }
  return out;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts) out += (out.empty() ? "" : ", ") + part;
  return "[" + out + "]";
}

TEST(ValidatorCasesTest, ErrorsMatchTheReferenceValidatorOrTheDifferenceIsListed) {
  auto manifest = testing::ParseJson(ReadFile(kValidator / "manifest-r4.json"));
  const std::map<std::string, std::string> differences = ReadDifferences();
  int passed = 0, differing = 0, skipped = 0;
  for (const auto& test_case : manifest["test-cases"].GetArray()) {
    const std::string name = test_case["name"].GetString();
    const std::string file = test_case["file"].GetString();
    struct Run {
      std::string label;
      const rapidjson::Value* java;
      bool with_profile;
    };
    std::vector<Run> runs{{name, &test_case["java"], false}};
    if (test_case.HasMember("profile") && test_case["profile"].HasMember("java")) {
      runs.push_back({name + ":profile", &test_case["profile"]["java"], true});
    }
    for (const Run& run : runs) {
      std::string skip;
      CaseRunner runner;
      Reference reference = ReadReference(*run.java);
      if (!file.ends_with(".json")) skip = "the case is XML, which this server does not read";
      std::vector<std::string> support = Strings(test_case, "profiles");
      for (const std::string& more : Strings(test_case, "supporting")) support.push_back(more);
      if (skip.empty()) runner.Load(support, skip);
      runner.ClearProfileUrl();
      if (skip.empty() && run.with_profile) {
        std::vector<std::string> profile_files{test_case["profile"]["source"].GetString()};
        for (const std::string& more : Strings(test_case["profile"], "supporting")) profile_files.push_back(more);
        runner.Load(profile_files, skip);
      }
      if (skip.empty() && !reference.needs.empty()) skip = "the reference outcome needs " + reference.needs;
      if (!skip.empty()) {
        ++skipped;
        std::printf("  skipped %s: %s\n", run.label.c_str(), skip.c_str());
        continue;
      }
      std::vector<std::string> found = runner.Errors(file, run.with_profile ? runner.profile_url() : "");
      bool same = reference.errors.size() == found.size() &&
                  (reference.errors.empty() || reference.errors[0] == "?" || reference.errors == found);
      auto listed = differences.find(run.label);
      if (same) {
        ++passed;
        EXPECT_EQ(listed, differences.end()) << run.label << " now agrees with the reference validator: remove it from the list";
      } else {
        ++differing;
        std::printf("  differs %s: reference %s, Chartkeeper %s\n", run.label.c_str(), Join(reference.errors).c_str(), Join(found).c_str());
        EXPECT_NE(listed, differences.end()) << run.label << ": reference " << Join(reference.errors) << ", found " << Join(found);
      }
    }
  }
  std::printf("validator cases: %d runs passed, %d differ (listed with reasons), %d skipped\n", passed, differing, skipped);
}

}  // namespace
}  // namespace ck::validation
