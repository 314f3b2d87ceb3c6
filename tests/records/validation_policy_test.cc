// What a write that breaks a validation rule gets under each front door's policy: strict refuses
// it, lenient stores it with its errors recorded beside the version, structure stores it after
// the structure checks alone. No policy lets in a body that is not well-formed FHIR JSON.
#include <gtest/gtest.h>

#include "records/quality_report.h"
#include "records_fixture.h"
#include "support/json.h"

namespace ck::records {
namespace {

constexpr char kRobot[] = R"({"resourceType":"Patient","id":"r","gender":"robot"})";

class ValidationPolicyTest : public RecordsTest {
 protected:
  RequestContext Under(ValidationPolicy policy) {
    RequestContext context = context_;
    context.validation = policy;
    return context;
  }
  Result<WriteOutcome> Write(ValidationPolicy policy, std::string_view body) {
    auto resource = service_->Parse(body);
    if (!resource) return Err(resource.error());
    return service_->UpdateResource(Under(policy), std::move(*resource), std::nullopt);
  }
};

TEST_F(ValidationPolicyTest, StrictRefusesAndStoresNothing) {
  auto refused = Write(ValidationPolicy::kStrict, kRobot);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kUnprocessable);
  EXPECT_FALSE(*store_->ReadCurrent("Patient", "r"));
}

TEST_F(ValidationPolicyTest, LenientStoresWithTheErrorsRecordedBesideTheVersion) {
  auto stored = Write(ValidationPolicy::kLenient, kRobot);
  ASSERT_TRUE(stored) << stored.error().ToString();
  EXPECT_EQ(stored->recorded_errors, 1u);
  ASSERT_EQ(stored->issues.size(), 1u);
  EXPECT_TRUE(stored->issues[0].IsError());
  EXPECT_EQ(stored->issues[0].expression, "Patient.gender");

  auto version = store_->ReadVersion("Patient", "r", 1);
  ASSERT_TRUE(version && *version);
  auto recorded = testing::ParseJson((*version)->issues);
  ASSERT_TRUE(recorded.IsObject()) << (*version)->issues;
  EXPECT_STREQ(recorded["resourceType"].GetString(), "OperationOutcome");
  ASSERT_EQ(recorded["issue"].Size(), 1u);
  EXPECT_STREQ(recorded["issue"][0]["severity"].GetString(), "error");
  EXPECT_STREQ(recorded["issue"][0]["code"].GetString(), "code-invalid");
  EXPECT_STREQ(recorded["issue"][0]["expression"][0].GetString(), "Patient.gender");
  EXPECT_NE(std::string(recorded["issue"][0]["diagnostics"].GetString()).find("robot"), std::string::npos);
  EXPECT_NE((*version)->body.find("robot"), std::string::npos);  // nothing of the old data is lost

  // The next version meets every rule: it has nothing recorded; the first keeps its record.
  auto fixed = Write(ValidationPolicy::kLenient, R"({"resourceType":"Patient","id":"r","gender":"other"})");
  ASSERT_TRUE(fixed);
  EXPECT_EQ(fixed->recorded_errors, 0u);
  EXPECT_EQ((*store_->ReadCurrent("Patient", "r"))->issues, "");
  EXPECT_FALSE((*store_->ReadVersion("Patient", "r", 1))->issues.empty());
}

TEST_F(ValidationPolicyTest, LenientRecordsConstraintAndProfileErrorsToo) {
  auto stored = Write(ValidationPolicy::kLenient, R"({"resourceType":"Observation","id":"o","status":"final",
    "meta":{"profile":["http://hl7.org/fhir/StructureDefinition/bodyweight"]},
    "code":{"text":"weight"},"dataAbsentReason":{"text":"lost"},"valueString":"heavy"})");
  ASSERT_TRUE(stored) << stored.error().ToString();
  EXPECT_GE(stored->recorded_errors, 2u);
  std::string rules;
  for (const Issue& issue : stored->issues) rules += issue.rule + ";";
  EXPECT_NE(rules.find("constraint obs-6"), std::string::npos) << rules;
  EXPECT_NE(rules.find("profile http://hl7.org/fhir/StructureDefinition/bodyweight"), std::string::npos) << rules;
}

TEST_F(ValidationPolicyTest, NoPolicyLetsInWhatIsNotWellFormedFhirJson) {
  for (ValidationPolicy policy : {ValidationPolicy::kLenient, ValidationPolicy::kStructure}) {
    EXPECT_FALSE(Write(policy, R"({"resourceType":"Patient","id":"x","colour":"blue"})"));       // unknown element
    EXPECT_FALSE(Write(policy, R"({"resourceType":"Patient","id":"x","birthDate":"1970-13"})"));  // bad primitive
    EXPECT_FALSE(Write(policy, R"({"resourceType":"Patient","id":"x","active":[true]})"));       // cardinality
    EXPECT_FALSE(Write(policy, R"({"resourceType":"Patient","id":"x",)"));                       // not JSON
  }
  EXPECT_FALSE(*store_->ReadCurrent("Patient", "x"));
}

TEST_F(ValidationPolicyTest, StructureStoresWithoutValidatingOrRecording) {
  auto stored = Write(ValidationPolicy::kStructure, kRobot);
  ASSERT_TRUE(stored) << stored.error().ToString();
  EXPECT_EQ(stored->recorded_errors, 0u);
  EXPECT_TRUE(stored->issues.empty());
  EXPECT_EQ((*store_->ReadCurrent("Patient", "r"))->issues, "");
}

// A profile that cannot be built would break the validation of every resource claiming it: no
// policy stores one.
TEST_F(ValidationPolicyTest, AProfileThatCannotBeBuiltIsRefusedUnderEveryPolicy) {
  for (ValidationPolicy policy : {ValidationPolicy::kLenient, ValidationPolicy::kStructure}) {
    auto refused = Write(policy, R"({"resourceType":"StructureDefinition","id":"bad","url":"http://example.org/bad",
      "name":"Bad","status":"active","kind":"resource","abstract":false,"type":"Patient",
      "baseDefinition":"http://example.org/no-such-base","derivation":"constraint",
      "differential":{"element":[{"id":"Patient.name","path":"Patient.name","min":1}]}})");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), StatusCode::kUnprocessable);
  }
}

TEST_F(ValidationPolicyTest, TheQualityReportListsWhatWasStoredWithErrors) {
  ASSERT_TRUE(Write(ValidationPolicy::kLenient, kRobot));
  ASSERT_TRUE(Write(ValidationPolicy::kLenient, R"({"resourceType":"Patient","id":"fine","gender":"male"})"));
  auto report = QualityScan(*service_, *store_).Run({"Patient"});
  ASSERT_TRUE(report) << report.error().ToString();
  ASSERT_EQ(report->types.size(), 1u);
  EXPECT_EQ(report->types[0].stored_with_errors, 1u);
  EXPECT_EQ(report->types[0].stored_with_errors_examples, std::vector<std::string>{"r"});
  EXPECT_EQ(report->types[0].with_errors, 1u);  // and its error found again
  auto json = testing::ParseJson(report->Json());
  EXPECT_EQ(json["types"][0]["storedWithErrors"].GetInt(), 1);
  EXPECT_STREQ(json["types"][0]["storedWithErrorsExamples"][0].GetString(), "r");
  EXPECT_NE(report->Table().find("stored with errors recorded (lenient policy): 1, e.g. r"), std::string::npos) << report->Table();
}

}  // namespace
}  // namespace ck::records
