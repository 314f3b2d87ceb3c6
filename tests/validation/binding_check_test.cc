// Specification of terminology bindings: a code outside the value set of a required binding is an
// error with the element's location, the code and the value set; outside an extensible or
// preferred one, a warning; a binding to a value set that cannot be expanded from the loaded code
// systems is skipped, with an information issue saying so.
#include "validation/binding_check.h"

#include <gtest/gtest.h>

#include "fhir/json_reader.h"
#include "collect_issues.h"

namespace ck::validation {
namespace {

std::vector<Issue> Check(std::string_view json, CheckOptions options = {}) {
  return CollectIssues(json, options, [](const fhir::Resource& resource, IssueCollector& issues) {
    CheckBindings(resource, terminology::ValueSets::R4(), issues);
  });
}

std::vector<Issue> CheckWithWarnings(std::string_view json) { return Check(json, {.warnings = true}); }

TEST(ValueSetsTest, ExpandsTheBoundValueSetsFromTheLoadedCodeSystems) {
  const auto& value_sets = terminology::ValueSets::R4();
  const terminology::ValueSet* gender = value_sets.Find("http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1");
  ASSERT_NE(gender, nullptr);
  EXPECT_TRUE(gender->expanded());
  EXPECT_TRUE(gender->Contains("http://hl7.org/fhir/administrative-gender", "female"));
  EXPECT_FALSE(gender->ContainsCode("robot"));
  // A filter on a hierarchy (is-a) and nested value sets are expanded too.
  const terminology::ValueSet* status = value_sets.Find("http://hl7.org/fhir/ValueSet/condition-clinical");
  ASSERT_NE(status, nullptr);
  EXPECT_TRUE(status->ContainsCode("recurrence"));
  const terminology::ValueSet* mime = value_sets.Find("http://hl7.org/fhir/ValueSet/mimetypes");
  ASSERT_NE(mime, nullptr);
  EXPECT_FALSE(mime->expanded());
  EXPECT_NE(mime->not_expandable_reason().find("urn:ietf:bcp:13"), std::string::npos);
}

TEST(BindingCheckTest, RefusesACodeOutsideItsRequiredValueSet) {
  auto issues = Check(R"({"resourceType":"Patient","gender":"robot"})");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].type, IssueType::kCodeInvalid);
  EXPECT_EQ(issues[0].expression, "Patient.gender");
  EXPECT_NE(issues[0].message.find("'robot'"), std::string::npos);
  EXPECT_NE(issues[0].message.find("http://hl7.org/fhir/ValueSet/administrative-gender"), std::string::npos);
  auto status = Check(R"({"resourceType":"Observation","status":"nonsense","code":{"text":"x"}})");
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].expression, "Observation.status");
}

TEST(BindingCheckTest, AcceptsMembers) {
  EXPECT_TRUE(Check(R"({"resourceType":"Patient","gender":"female"})").empty());
  EXPECT_TRUE(Check(R"({"resourceType":"Condition","subject":{"reference":"Patient/a"},"clinicalStatus":{"coding":[
    {"system":"http://example.org/other","code":"x"},
    {"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]}})").empty());
}

TEST(BindingCheckTest, ACodeableConceptNeedsACodingFromTheValueSet) {
  auto wrong = Check(R"({"resourceType":"Condition","subject":{"reference":"Patient/a"},"clinicalStatus":{"coding":[
    {"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"bogus"}]}})");
  ASSERT_EQ(wrong.size(), 1u);
  EXPECT_EQ(wrong[0].expression, "Condition.clinicalStatus");
  EXPECT_NE(wrong[0].message.find("condition-clinical|bogus"), std::string::npos);
  // The right code in another system is not a member.
  EXPECT_EQ(Check(R"({"resourceType":"Condition","subject":{"reference":"Patient/a"},"clinicalStatus":{"coding":[
    {"system":"http://example.org/other","code":"active"}]}})").size(), 1u);
  auto text_only = Check(R"({"resourceType":"Condition","subject":{"reference":"Patient/a"},"clinicalStatus":{"text":"active"}})");
  ASSERT_EQ(text_only.size(), 1u);
  EXPECT_NE(text_only[0].message.find("no coding"), std::string::npos);
}

TEST(BindingCheckTest, LocatesProblemsInArraysAndNestedResources) {
  auto issues = Check(R"({"resourceType":"Bundle","type":"collection","entry":[
    {"resource":{"resourceType":"Patient","gender":"male"}},
    {"resource":{"resourceType":"Patient","gender":"robot","telecom":[{"system":"phone","value":"1"},{"system":"pigeon","value":"2"}]}}]})");
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].expression, "Bundle.entry[1].resource.gender");
  EXPECT_EQ(issues[1].expression, "Bundle.entry[1].resource.telecom[1].system");
  EXPECT_EQ(Check(R"({"resourceType":"Bundle","type":"nonsense"})").size(), 1u);
}

TEST(BindingCheckTest, SkipsValueSetsThatCannotBeExpandedHere) {
  // Attachment.contentType is bound (required) to mimetypes, a code system (BCP 13) not loaded.
  const char* document = R"({"resourceType":"DocumentReference","status":"current","content":[{"attachment":{"contentType":"x/never-heard-of"}}]})";
  EXPECT_TRUE(Check(document).empty());
  auto skipped = CheckWithWarnings(document);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].severity, IssueSeverity::kInformation);
  EXPECT_EQ(skipped[0].expression, "DocumentReference.content[0].attachment.contentType");
  EXPECT_NE(skipped[0].message.find("was not checked"), std::string::npos);
  EXPECT_NE(skipped[0].message.find("urn:ietf:bcp:13"), std::string::npos);
}

TEST(BindingCheckTest, ExtensibleAndPreferredBindingsGiveWarnings) {
  // Patient.maritalStatus: extensible binding to marital-status.
  const char* marital = R"({"resourceType":"Patient","maritalStatus":{"coding":[{"system":"http://example.org/local","code":"x"}]}})";
  EXPECT_TRUE(Check(marital).empty());
  auto extensible = CheckWithWarnings(marital);
  ASSERT_EQ(extensible.size(), 1u);
  EXPECT_EQ(extensible[0].severity, IssueSeverity::kWarning);
  EXPECT_EQ(extensible[0].type, IssueType::kCodeInvalid);
  EXPECT_EQ(extensible[0].expression, "Patient.maritalStatus");
  EXPECT_NE(extensible[0].message.find("extensible binding"), std::string::npos);
  // Text alone meets an extensible binding.
  EXPECT_TRUE(CheckWithWarnings(R"({"resourceType":"Patient","maritalStatus":{"text":"it is complicated"}})").empty());
  EXPECT_TRUE(CheckWithWarnings(R"({"resourceType":"Patient","maritalStatus":{"coding":[
    {"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"M"}]}})").empty());
  // Observation.category: preferred binding to observation-category.
  auto preferred = CheckWithWarnings(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
    "category":[{"coding":[{"system":"http://example.org/local","code":"x"}]}]})");
  ASSERT_EQ(preferred.size(), 1u);
  EXPECT_EQ(preferred[0].severity, IssueSeverity::kWarning);
  EXPECT_EQ(preferred[0].expression, "Observation.category[0]");
  EXPECT_NE(preferred[0].message.find("preferred binding"), std::string::npos);
}

TEST(BindingCheckTest, StopsAtTheIssueCap) {
  std::string names;
  for (int i = 0; i < 50; ++i) names += std::string(i ? "," : "") + R"({"use":"bogus"})";
  auto resource = fhir::ReadResource(R"({"resourceType":"Patient","name":[)" + names + "]}", fhir::Definitions::R4());
  ASSERT_TRUE(resource);
  IssueCollector issues({.max_issues = 10});
  CheckBindings(*resource, terminology::ValueSets::R4(), issues);
  EXPECT_EQ(issues.issues().size(), 10u);
}

}  // namespace
}  // namespace ck::validation
