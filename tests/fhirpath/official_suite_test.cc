// The official FHIRPath test suite for FHIR R4 (../shared/testdata/fhirpath/tests-fhir-r4.json):
// every case is run and the totals printed. Cases the engine does not pass yet are listed, with
// the reason, in known_failures.txt; the test fails if any other case fails (a regression) and
// reports listed cases that now pass (so the list only shrinks).
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "fhir/json_reader.h"
#include "fhirpath/expression.h"
#include "support/reason_file.h"

namespace ck::fhirpath {
namespace {

const std::filesystem::path kSuite = std::filesystem::path(CK_SOURCE_DIR) / ".." / "shared" / "testdata" / "fhirpath";

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The suite's type name for a result item.
std::string TypeName(const Value& v) {
  switch (v.kind) {
    case ValueKind::kElement: return v.type->name;
    case ValueKind::kBoolean: return "boolean";
    case ValueKind::kInteger: return "integer";
    case ValueKind::kDecimal: return "decimal";
    case ValueKind::kString: return "string";
    case ValueKind::kDate: return "date";
    case ValueKind::kDateTime: return "dateTime";
    case ValueKind::kTime: return "time";
    case ValueKind::kQuantity: return "Quantity";
    case ValueKind::kTypeInfo: return "TypeInfo";
  }
  return "";
}

bool SameOutput(const Value& actual, const rapidjson::Value& expected) {
  auto text_of = [&](const char* member) {
    return expected.HasMember(member) && expected[member].IsString() ? std::string(expected[member].GetString()) : std::string();
  };
  std::string type = text_of("type");  // null when the suite does not say
  std::string text = text_of("value");
  if (!type.empty() && type != TypeName(actual)) return false;
  if (text.starts_with("@T")) text = text.substr(2);
  if (text.starts_with("@")) text = text.substr(1);
  auto system = actual.ToSystem();
  if (!system) return text.empty();
  if (system->kind == ValueKind::kDecimal || (type.empty() && system->kind == ValueKind::kInteger)) {
    char* end = nullptr;
    double wanted = std::strtod(text.c_str(), &end);
    double got = system->kind == ValueKind::kDecimal ? system->decimal : static_cast<double>(system->integer);
    return end != text.c_str() && std::fabs(wanted - got) < 1e-9;
  }
  if (system->kind == ValueKind::kQuantity) {
    std::size_t space = text.find(' ');
    if (space == std::string::npos || text.size() < space + 3) return false;
    std::string unit = text.substr(space + 2, text.size() - space - 3);
    return std::fabs(std::stod(text.substr(0, space)) - system->decimal) < 1e-9 && unit == system->text;
  }
  return system->ToString() == text;
}

std::map<std::string, std::string> KnownFailures() {
  return testing::ReadReasonFile(std::filesystem::path(CK_SOURCE_DIR) / "tests" / "fhirpath" / "known_failures.txt");
}

TEST(OfficialSuiteTest, PassesEveryCaseNotListedAsKnownFailure) {
  rapidjson::Document suite;
  std::string text = ReadText(kSuite / "tests-fhir-r4.json");
  suite.Parse(text.c_str(), text.size());
  ASSERT_TRUE(suite.IsObject());
  const fhir::Definitions& definitions = fhir::Definitions::R4();
  std::map<std::string, Result<fhir::Resource>> inputs;
  auto known = KnownFailures();
  int passed = 0, failed = 0;
  std::vector<std::string> regressions, fixed;
  for (auto& group : suite["groups"].GetArray()) {
    for (auto& test : group["tests"].GetArray()) {
      std::string name = test["name"].GetString();
      std::string expression = test["expression"].GetString();
      std::string input = test.HasMember("inputfile") ? test["inputfile"].GetString() : "patient-example.json";
      if (!inputs.contains(input)) inputs.emplace(input, fhir::ReadResource(ReadText(kSuite / "input" / input), definitions, {.bind = {.enforce_cardinality = false}}));
      const auto& resource = inputs.at(input);
      std::string why;
      bool ok = false;
      if (!resource) {
        why = "input does not load: " + resource.error().message();
      } else {
        bool strict = test.HasMember("mode") && std::string(test["mode"].GetString()) == "strict";
        auto compiled = Expression::Compile(expression, definitions, resource->type(), strict ? TypeCheck::kStrict : TypeCheck::kStandard);
        Result<Collection> result = compiled ? compiled->Evaluate(*resource, definitions) : Err(compiled.error());
        if (test.HasMember("invalid")) {
          ok = !result;
          why = "expected an error";
        } else if (!result) {
          why = result.error().message();
        } else if (test.HasMember("predicate") &&
                   (test["predicate"].IsBool() ? test["predicate"].GetBool() : std::string(test["predicate"].GetString()) == "true")) {
          const auto& outputs = test["outputs"].GetArray();
          ok = outputs.Size() == 1 && std::string(outputs[0]["value"].GetString()) == (result->empty() ? "false" : "true");
        } else {
          const auto& outputs = test["outputs"].GetArray();
          ok = result->size() == outputs.Size();
          for (std::size_t i = 0; ok && i < result->size(); ++i) ok = SameOutput((*result)[i], outputs[i]);
          if (!ok) {
            why = "got [";
            for (const Value& v : *result) why += TypeName(v) + " " + v.ToString() + ", ";
            why += "]";
          }
        }
      }
      ok ? ++passed : ++failed;
      bool listed = known.contains(name);
      if (!ok && !listed) regressions.push_back(name + " (" + expression + "): " + why);
      if (ok && listed) fixed.push_back(name);
    }
  }
  std::printf("FHIRPath R4 suite: %d passed, %d failed (all listed in known_failures.txt), 0 skipped, of %d\n", passed, failed,
              passed + failed);
  for (const auto& r : regressions) ADD_FAILURE() << "fails and is not a known failure: " << r;
  for (const auto& f : fixed) std::printf("now passes, remove from known_failures.txt: %s\n", f.c_str());
}

}  // namespace
}  // namespace ck::fhirpath
