// Specification of invariants on write: every constraint of the R4 definitions compiles
// (type-checked where it has a type), and a violation is reported with its key, its text and
// the element's location: an error for a constraint of severity error, a warning (only when
// warnings are asked for) for one of severity warning.
#include "validation/invariant_check.h"

#include <gtest/gtest.h>

#include "collect_issues.h"

namespace ck::validation {
namespace {

std::vector<Issue> Check(std::string_view json, CheckOptions options = {}) {
  return CollectIssues(json, options, [](const fhir::Resource& resource, IssueCollector& issues) { InvariantCheck::R4().Check(resource, issues); });
}

TEST(InvariantCheckTest, CompilesEveryErrorConstraintOfTheDefinitions) {
  const InvariantCheck& check = InvariantCheck::R4();
  for (const std::string& failure : check.failed_to_compile()) ADD_FAILURE() << failure;
  EXPECT_GT(check.size(), 150u);
  for (const auto& [key, reason] : check.exclusions()) EXPECT_FALSE(reason.empty()) << key;
}

TEST(InvariantCheckTest, ReportsAResourceLevelViolationWithKeyTextAndLocation) {
  // obs-6: dataAbsentReason only when there is no value.
  auto issues = Check(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"a",
    "dataAbsentReason":{"text":"unknown"}})");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].type, IssueType::kInvariant);
  EXPECT_EQ(issues[0].expression, "Observation");
  EXPECT_NE(issues[0].message.find("obs-6"), std::string::npos);
  EXPECT_NE(issues[0].message.find("dataAbsentReason SHALL only be present"), std::string::npos);
}

TEST(InvariantCheckTest, EvaluatesBackboneAndDataTypeInvariantsOnEachElement) {
  // pat-1 on Patient.contact: a contact has some detail or a reference to an organization.
  auto contact = Check(R"({"resourceType":"Patient","contact":[{"name":{"family":"A"}},{"gender":"male"}]})");
  ASSERT_EQ(contact.size(), 1u);
  EXPECT_EQ(contact[0].expression, "Patient.contact[1]");
  EXPECT_NE(contact[0].message.find("pat-1"), std::string::npos);
  // ext-1 on Extension, anywhere: an extension has a value or extensions, not both.
  auto extension = Check(R"({"resourceType":"Patient","name":[{"family":"A","extension":[
    {"url":"http://x","valueString":"a","extension":[{"url":"y","valueString":"b"}]}]}]})");
  ASSERT_EQ(extension.size(), 1u);
  EXPECT_EQ(extension[0].expression, "Patient.name[0].extension[0]");
  EXPECT_NE(extension[0].message.find("ext-1"), std::string::npos);
}

// txt-2 is read past (an empty narrative is well-formed) and reported here, at the div.
TEST(InvariantCheckTest, ANarrativeWithoutContentBreaksTxt2) {
  auto issues = Check(R"({"resourceType":"Patient","text":{"status":"generated",
    "div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"> <p/> </div>"}})");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].expression, "Patient.text.div");
  EXPECT_EQ(issues[0].rule, "constraint txt-2");
  EXPECT_NE(issues[0].message.find("non-whitespace content"), std::string::npos) << issues[0].message;
  EXPECT_TRUE(Check(R"({"resourceType":"Patient","text":{"status":"generated",
    "div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><img src=\"a.png\"/></div>"}})").empty());
}

TEST(InvariantCheckTest, EvaluatesInvariantsDefinedOnDataTypedAndPrimitiveElements) {
  // org-3 on Organization.telecom (a ContactPoint): no home use.
  auto telecom = Check(R"({"resourceType":"Organization","name":"O","telecom":[{"system":"phone","value":"1","use":"home"}]})");
  ASSERT_EQ(telecom.size(), 1u);
  EXPECT_EQ(telecom[0].expression, "Organization.telecom[0]");
  EXPECT_NE(telecom[0].message.find("org-3"), std::string::npos);
  // ras-1 on a choice element: a probability range is in percent.
  auto probability = Check(R"({"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/a"},
    "prediction":[{"probabilityRange":{"low":{"value":1,"system":"http://unitsofmeasure.org","code":"mg"}}}]})");
  ASSERT_EQ(probability.size(), 1u);
  EXPECT_EQ(probability[0].expression, "RiskAssessment.prediction[0].probabilityRange");
  EXPECT_NE(probability[0].message.find("ras-1"), std::string::npos);
  // A nested extension is checked once for ext-1, not again for Extension.extension's copy.
  auto nested = Check(R"({"resourceType":"Patient","extension":[{"url":"http://x","extension":[
    {"url":"a","valueString":"v","extension":[{"url":"b","valueString":"w"}]}]}]})");
  ASSERT_EQ(nested.size(), 1u);
  EXPECT_EQ(nested[0].expression, "Patient.extension[0].extension[0]");
}

TEST(InvariantCheckTest, AnIdOnlyExtensionHolderOfAPrimitiveWithAValueIsFine) {
  EXPECT_TRUE(Check(R"({"resourceType":"Patient","birthDate":"1970-01-01","_birthDate":{"id":"b"}})").empty());
}

TEST(InvariantCheckTest, ChecksAnElementWithOnlyAnIdAsEle1) {
  auto issues = Check(R"({"resourceType":"Patient","maritalStatus":{"id":"a"}})");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].expression, "Patient.maritalStatus");
  EXPECT_NE(issues[0].message.find("ele-1"), std::string::npos);
}

TEST(InvariantCheckTest, EvaluatesNestedResourcesWithThemAsResource) {
  // dom-3 on a contained resource's container, inside a Bundle entry: %resource is the entry's
  // resource, not the Bundle.
  auto issues = Check(R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient",
    "contained":[{"resourceType":"Organization","id":"o","name":"Unreferenced"}]}}]})");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].expression, "Bundle.entry[0].resource");
  EXPECT_NE(issues[0].message.find("dom-3"), std::string::npos);
  EXPECT_TRUE(Check(R"({"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o","name":"O"}],
    "managingOrganization":{"reference":"#o"}})").empty());
}

TEST(InvariantCheckTest, WarningConstraintsGiveWarningsOnlyWhenAskedFor) {
  // dom-6: a resource should have a narrative (severity warning).
  const char* patient = R"({"resourceType":"Patient","gender":"female"})";
  EXPECT_TRUE(Check(patient).empty());
  auto warnings = Check(patient, {.warnings = true});
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].severity, IssueSeverity::kWarning);
  EXPECT_EQ(warnings[0].expression, "Patient");
  EXPECT_NE(warnings[0].message.find("dom-6"), std::string::npos);
  EXPECT_TRUE(Check(R"({"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">P</div>"}})",
                    {.warnings = true})
                  .empty());
}

TEST(InvariantCheckTest, AContainedResourceReferencesItsSiblingsThroughRootResource) {
  // ref-1 looks for "#m" in %rootResource.contained: for a contained resource, its container's.
  EXPECT_TRUE(Check(R"({"resourceType":"CarePlan","status":"active","intent":"plan","subject":{"reference":"Patient/p"},
    "contained":[{"resourceType":"Medication","id":"m"},
                 {"resourceType":"MedicationRequest","id":"r","status":"active","intent":"order","subject":{"reference":"Patient/p"},
                  "medicationReference":{"reference":"#m"}}],
    "activity":[{"reference":{"reference":"#r"}}]})").empty());
  auto dangling = Check(R"({"resourceType":"CarePlan","status":"active","intent":"plan","subject":{"reference":"Patient/p"},
    "contained":[{"resourceType":"MedicationRequest","id":"r","status":"active","intent":"order","subject":{"reference":"Patient/p"},
                  "medicationReference":{"reference":"#nowhere"}}],
    "activity":[{"reference":{"reference":"#r"}}]})");
  ASSERT_EQ(dangling.size(), 1u);
  EXPECT_EQ(dangling[0].expression, "CarePlan.contained[0].medicationReference");
}

TEST(InvariantCheckTest, AcceptsValidResources) {
  EXPECT_TRUE(Check(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}})").empty());
  EXPECT_TRUE(Check(R"({"resourceType":"Patient","contact":[{"name":{"family":"A"}}]})").empty());
}

}  // namespace
}  // namespace ck::validation
