// FHIRPath Patch: the cases in ../shared/testdata/patch/fhir-patch-tests.xml (from the FHIR test
// cases; their XML resources turned into JSON here), then what a malformed patch or one that
// cannot apply gets.

#include "records/fhirpath_patch.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "fhir/json_reader.h"
#include "fhir/json_writer.h"
#include "support/fhir_xml.h"
#include "support/json.h"

namespace ck::records {
namespace {

const std::filesystem::path kCases =
    std::filesystem::path(CK_SOURCE_DIR) / ".." / "shared" / "testdata" / "patch" / "fhir-patch-tests.xml";

const fhir::Definitions& Defs() { return fhir::Definitions::R4(); }

fhir::Resource Read(std::string_view json) {
  fhir::ReadOptions options;
  options.bind.enforce_cardinality = false;
  auto resource = fhir::ReadResource(json, Defs(), options);
  EXPECT_TRUE(resource) << resource.error().ToString() << "\n" << json;
  return resource ? std::move(*resource) : fhir::Resource();
}

Result<fhir::Resource> Patch(std::string_view resource, std::string_view parameters) {
  return ApplyFhirPathPatch(Read(resource), Read(parameters), Defs());
}

// The JSON of the one resource element inside a case's <input>, <diff> or <output>.
std::string ResourceJson(const testing::XmlNode& wrapper) {
  std::vector<const testing::XmlNode*> resources = wrapper.Elements();
  EXPECT_EQ(resources.size(), 1u);
  return resources.empty() ? "" : testing::FhirXmlToJson(*resources[0], Defs());
}

// Cases nest inside <tests> and, once, inside another case (the file's own quirk).
void CollectCases(const testing::XmlNode& node, std::vector<const testing::XmlNode*>& cases) {
  for (const testing::XmlNode* child : node.Elements("case")) {
    cases.push_back(child);
    CollectCases(*child, cases);
  }
}

TEST(FhirPathPatchTest, PassesTheSharedCases) {
  std::ifstream in(kCases);
  ASSERT_TRUE(in) << kCases;
  std::stringstream text;
  text << in.rdbuf();
  testing::XmlNode root = testing::ParseXml(text.str());
  ASSERT_EQ(root.name, "tests");
  std::vector<const testing::XmlNode*> cases;
  CollectCases(root, cases);
  ASSERT_GE(cases.size(), 30u);
  int passed = 0;
  int failed = 0;
  for (const testing::XmlNode* test : cases) {
    const std::string name(test->Attribute("name"));
    SCOPED_TRACE(name);
    auto result = Patch(ResourceJson(*test->Elements("input")[0]), ResourceJson(*test->Elements("diff")[0]));
    bool ok = false;
    if (std::vector<const testing::XmlNode*> output = test->Elements("output"); !output.empty()) {
      const std::string expected = testing::CanonicalJson(ResourceJson(*output[0]));
      const std::string got = result ? testing::CanonicalJson(fhir::WriteJson(result->root())) : result.error().ToString();
      ok = result && got == expected;
      EXPECT_TRUE(ok) << "got      " << got << "\nexpected " << expected;
    } else {
      ok = !result && result.error().code() == StatusCode::kUnprocessable;
      EXPECT_TRUE(ok) << "expected an error: " << test->Elements("error")[0]->Attribute("msg");
    }
    ++(ok ? passed : failed);
  }
  std::cout << "FHIRPath Patch cases: " << passed << " passed, " << failed << " failed\n";
}

constexpr std::string_view kPatient =
    R"({"resourceType":"Patient","id":"p","name":[{"family":"Lovelace","given":["Ada","Augusta"],"_given":[null,{"extension":[{"url":"http://x","valueString":"y"}]}]}],"birthDate":"1815-12-10"})";

std::string Operation(std::string_view parts) {
  return R"({"resourceType":"Parameters","parameter":[{"name":"operation","part":[)" + std::string(parts) + "]}]}";
}

TEST(FhirPathPatchTest, KeepsAPrimitiveListsExtensionsAlignedAndPlacesElementsInDefinitionOrder) {
  auto result = Patch(kPatient, Operation(R"({"name":"type","valueCode":"insert"},{"name":"path","valueString":"Patient.name[0].given"},
      {"name":"index","valueInteger":0},{"name":"value","valueString":"Countess"})"));
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(fhir::WriteJson(result->root()),
            R"({"resourceType":"Patient","id":"p","name":[{"family":"Lovelace","given":["Countess","Ada","Augusta"],"_given":[null,null,{"extension":[{"url":"http://x","valueString":"y"}]}]}],"birthDate":"1815-12-10"})");
  result = Patch(kPatient, Operation(R"({"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient"},
      {"name":"name","valueString":"gender"},{"name":"value","valueCode":"female"})"));
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_NE(fhir::WriteJson(result->root()).find(R"("gender":"female","birthDate")"), std::string::npos);
  result = Patch(kPatient, Operation(R"({"name":"type","valueCode":"delete"},{"name":"path","valueString":"Patient.name[0].given[1]"})"));
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(fhir::WriteJson(result->root()),
            R"({"resourceType":"Patient","id":"p","name":[{"family":"Lovelace","given":["Ada"]}],"birthDate":"1815-12-10"})");
}

TEST(FhirPathPatchTest, PicksTheTypeOfAChoiceElementFromTheValue) {
  constexpr std::string_view kObservation =
      R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"high"})";
  auto result = Patch(kObservation, Operation(R"({"name":"type","valueCode":"replace"},{"name":"path","valueString":"Observation.value"},
      {"name":"value","valueQuantity":{"value":5.40,"unit":"g/L"}})"));
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(fhir::WriteJson(result->root()),
            R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":5.40,"unit":"g/L"}})");
}

TEST(FhirPathPatchTest, RefusesMalformedPatchesAs400) {
  const std::string malformed[] = {
      R"({"resourceType":"Parameters","parameter":[{"name":"op","part":[{"name":"type","valueCode":"add"}]}]})",
      Operation(R"({"name":"type","valueCode":"remove"},{"name":"path","valueString":"Patient.birthDate"})"),
      Operation(R"({"name":"type","valueCode":"replace"},{"name":"value","valueDate":"2000"})"),
      Operation(R"({"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient"},{"name":"value","valueCode":"female"})"),
      Operation(R"({"name":"type","valueCode":"insert"},{"name":"path","valueString":"Patient.name"},{"name":"value","valueString":"x"})"),
      Operation(R"({"name":"type","valueCode":"move"},{"name":"path","valueString":"Patient.name"},{"name":"source","valueInteger":0})"),
      Operation(R"({"name":"type","valueCode":"delete"},{"name":"path","valueString":"Patient.name[0"})"),
      Operation(R"({"name":"type","valueCode":"delete"},{"name":"path","valueString":"Patient.name"},{"name":"colour","valueString":"red"})"),
      Operation(R"({"name":"type","valueCode":"move"},{"name":"path","valueString":"Patient.name"},{"name":"source","valueInteger":-1},{"name":"destination","valueInteger":0})"),
  };
  for (const std::string& patch : malformed) {
    auto result = Patch(kPatient, patch);
    ASSERT_FALSE(result) << patch;
    EXPECT_EQ(result.error().code(), StatusCode::kInvalid) << patch << ": " << result.error().ToString();
    EXPECT_NE(result.error().message().find("operation 0"), std::string::npos) << result.error().message();
  }
}

TEST(FhirPathPatchTest, RefusesWhatCannotApplyAs422) {
  const std::string unappliable[] = {
      // nothing there to replace, or to add into
      Operation(R"({"name":"type","valueCode":"replace"},{"name":"path","valueString":"Patient.gender"},{"name":"value","valueCode":"male"})"),
      Operation(R"({"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient.contact"},{"name":"name","valueString":"gender"},{"name":"value","valueCode":"male"})"),
      // a single element given a second value; an element the type lacks
      Operation(R"({"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient"},{"name":"name","valueString":"birthDate"},{"name":"value","valueDate":"1900"})"),
      Operation(R"({"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient"},{"name":"name","valueString":"colour"},{"name":"value","valueString":"red"})"),
      // several elements where one is needed; indexes past the end
      Operation(R"({"name":"type","valueCode":"delete"},{"name":"path","valueString":"Patient.name.given"})"),
      Operation(R"({"name":"type","valueCode":"insert"},{"name":"path","valueString":"Patient.name"},{"name":"index","valueInteger":5},{"name":"value","valueHumanName":{"text":"x"}})"),
      Operation(R"({"name":"type","valueCode":"move"},{"name":"path","valueString":"Patient.name"},{"name":"source","valueInteger":0},{"name":"destination","valueInteger":1})"),
      // a value the element cannot take
      Operation(R"({"name":"type","valueCode":"replace"},{"name":"path","valueString":"Patient.birthDate"},{"name":"value","valueString":"last tuesday"})"),
      Operation(R"({"name":"type","valueCode":"delete"},{"name":"path","valueString":"Patient"})"),
  };
  for (const std::string& patch : unappliable) {
    auto result = Patch(kPatient, patch);
    ASSERT_FALSE(result) << patch;
    EXPECT_EQ(result.error().code(), StatusCode::kUnprocessable) << patch << ": " << result.error().ToString();
  }
  // resolve() leaves the resource: what it finds cannot be edited here.
  auto elsewhere = Patch(R"({"resourceType":"Patient","generalPractitioner":[{"reference":"Practitioner/x"}]})",
                         Operation(R"j({"name":"type","valueCode":"delete"},{"name":"path","valueString":"Patient.generalPractitioner.resolve()"})j"));
  ASSERT_FALSE(elsewhere);
  EXPECT_EQ(elsewhere.error().code(), StatusCode::kUnprocessable) << elsewhere.error().ToString();
}

}  // namespace
}  // namespace ck::records
