// Specification of profile validation: the R4 core profiles and extension definitions are held;
// a resource is checked against the profiles it claims (meta.profile) and every extension against
// its definition; a profile written as a differential gets its snapshot from its base; each
// profile rule (cardinality, fixed, pattern, types, target profiles, bindings, invariants,
// slicing by each discriminator, closed and ordered slicing, extension contexts) is enforced
// with the element's location.
#include "validation/profile_check.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "collect_issues.h"

namespace ck::validation {
namespace {

const ProfileRegistry& Registry() {
  static const ProfileRegistry* const registry = new ProfileRegistry(fhir::Definitions::R4());
  return *registry;
}

// The registry with one more profile, built from a StructureDefinition written as JSON.
ProfileRegistry& WithProfile(std::string_view json) {
  static ProfileRegistry* const registry = new ProfileRegistry(fhir::Definitions::R4());
  auto tree = fhir::ParseJsonTree(json);
  EXPECT_TRUE(tree) << tree.error().ToString();
  Status added = registry->Add(*tree);
  EXPECT_TRUE(added.ok()) << added.ToString();
  return *registry;
}

std::vector<Issue> Check(const ProfileRegistry& registry, std::string_view json, bool strict = false,
                         std::vector<std::string> named = {}) {
  return CollectIssues(json, {.max_issues = 100, .warnings = true}, [&](const fhir::Resource& resource, IssueCollector& issues) {
    ProfileCheck(fhir::Definitions::R4(), registry, terminology::ValueSets::R4()).Check(resource, named, strict, issues);
  });
}

std::vector<Issue> Errors(std::vector<Issue> issues) {
  std::erase_if(issues, [](const Issue& issue) { return !issue.IsError(); });
  return issues;
}

bool Says(const Issue& issue, std::string_view text) { return issue.message.find(text) != std::string::npos; }

std::string Dump(const std::vector<Issue>& issues) {
  std::string out;
  for (const Issue& issue : issues) out += "\n  " + issue.expression + ": " + issue.message;
  return out;
}

constexpr char kBloodPressure[] = R"({"resourceType":"Observation","meta":{"profile":["http://hl7.org/fhir/StructureDefinition/bp"]},
  "status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
  "code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"subject":{"reference":"Patient/p"},
  "effectiveDateTime":"2020-01-01T10:00:00Z",
  "component":[
    {"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},
     "valueQuantity":{"value":120,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}
    DIASTOLIC]})";

std::string BloodPressure(std::string diastolic = R"(,{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},
     "valueQuantity":{"value":80,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}})") {
  std::string json = kBloodPressure;
  return json.replace(json.find("DIASTOLIC"), 9, diastolic);
}

TEST(ProfileRegistryTest, HoldsTheCoreProfilesAndExtensions) {
  const ProfileRegistry& registry = Registry();
  for (const std::string& failure : registry.core_failures()) ADD_FAILURE() << failure;
  EXPECT_GT(registry.size(), 430u);
  ASSERT_NE(registry.Find("http://hl7.org/fhir/StructureDefinition/bp"), nullptr);
  EXPECT_EQ(registry.Find("http://hl7.org/fhir/StructureDefinition/bp|4.0.1")->type(), "Observation");
  EXPECT_TRUE(registry.Find("http://hl7.org/fhir/StructureDefinition/patient-birthPlace")->is_extension());
  EXPECT_NE(registry.Find("http://hl7.org/fhir/StructureDefinition/SimpleQuantity"), nullptr);
  EXPECT_EQ(registry.Find("http://example.org/none"), nullptr);
  EXPECT_TRUE(registry.IsBaseType("http://hl7.org/fhir/StructureDefinition/Patient"));
  EXPECT_EQ(registry.TypeOf("http://hl7.org/fhir/StructureDefinition/bodyweight"), "Observation");
}

TEST(ProfileCheckTest, TheSpecificationsVitalSignsProfilesApply) {
  EXPECT_TRUE(Errors(Check(Registry(), BloodPressure())).empty()) << Dump(Check(Registry(), BloodPressure()));
  // Without the diastolic component: two components are required, one of them diastolic.
  auto missing = Errors(Check(Registry(), BloodPressure("")));
  ASSERT_EQ(missing.size(), 2u) << Dump(missing);
  EXPECT_EQ(missing[0].expression, "Observation");
  EXPECT_TRUE(Says(missing[0], "Observation.component: at least 2")) << missing[0].message;
  EXPECT_TRUE(Says(missing[1], "slice 'DiastolicBP'")) << missing[1].message;
  // The diastolic value in the wrong unit: the slice's fixed unit code.
  auto unit = Errors(Check(Registry(), BloodPressure(R"(,{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},
     "valueQuantity":{"value":80,"unit":"kPa","system":"http://unitsofmeasure.org","code":"kPa"}})")));
  ASSERT_EQ(unit.size(), 2u) << Dump(unit);
  EXPECT_EQ(unit[0].expression, "Observation.component[1].valueQuantity");  // the profile's binding
  EXPECT_TRUE(Says(unit[0], "ucum-vitals-common")) << unit[0].message;
  EXPECT_EQ(unit[1].expression, "Observation.component[1].valueQuantity.code");  // the slice's fixed unit
  EXPECT_TRUE(Says(unit[1], "exactly 'mm[Hg]'")) << unit[1].message;
}

TEST(ProfileCheckTest, AClaimedProfileThatIsNotHeldWarnsOrUnderTheStrictPolicyRefuses) {
  const char* patient = R"({"resourceType":"Patient","meta":{"profile":["http://example.org/StructureDefinition/unknown"]}})";
  auto lenient = Check(Registry(), patient);
  ASSERT_EQ(lenient.size(), 1u);
  EXPECT_EQ(lenient[0].severity, IssueSeverity::kWarning);
  EXPECT_EQ(lenient[0].expression, "Patient");
  EXPECT_EQ(Errors(Check(Registry(), patient, true)).size(), 1u);
  // A profile named by the caller must be held.
  EXPECT_EQ(Errors(Check(Registry(), R"({"resourceType":"Patient"})", false, {"http://example.org/x"})).size(), 1u);
  // A profile of another type.
  auto other = Errors(Check(Registry(), R"({"resourceType":"Patient","meta":{"profile":["http://hl7.org/fhir/StructureDefinition/bp"]}})"));
  ASSERT_EQ(other.size(), 1u);
  EXPECT_TRUE(Says(other[0], "is for Observation")) << other[0].message;
}

TEST(ProfileCheckTest, ExtensionsAreCheckedAgainstTheirDefinitions) {
  const ProfileRegistry& registry = Registry();
  EXPECT_TRUE(Check(registry, R"({"resourceType":"Patient","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
    "valueAddress":{"city":"Paris"}}]})").empty());
  // Wrong value type.
  auto type = Errors(Check(registry, R"({"resourceType":"Patient","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
    "valueString":"Paris"}]})"));
  ASSERT_FALSE(type.empty());
  EXPECT_EQ(type[0].expression, "Patient.extension[0].valueString") << Dump(type);
  // Wrong place: birthPlace belongs on a Patient.
  auto context = Errors(Check(registry, R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
    "extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthPlace","valueAddress":{"city":"Paris"}}]})"));
  ASSERT_EQ(context.size(), 1u) << Dump(context);
  EXPECT_EQ(context[0].type, IssueType::kExtension);
  EXPECT_EQ(context[0].expression, "Observation.extension[0]");
  EXPECT_TRUE(Says(context[0], "not allowed here")) << context[0].message;
  // An element-level context: an extension of HumanName on a name.
  EXPECT_TRUE(Errors(Check(registry, R"({"resourceType":"Patient","name":[{"family":"A","extension":[
    {"url":"http://hl7.org/fhir/StructureDefinition/humanname-assembly-order","valueCode":"NL1"}]}]})")).empty());
  // Unknown extensions are warnings: in the R4 namespace (extension packs add to it), modifiers too.
  auto unknown = Check(registry, R"({"resourceType":"Patient","extension":[{"url":"http://example.org/ext","valueString":"x"},
    {"url":"http://hl7.org/fhir/StructureDefinition/no-such-thing","valueString":"x"}],
    "modifierExtension":[{"url":"http://example.org/mod","valueString":"x"}]})");
  ASSERT_EQ(unknown.size(), 3u) << Dump(unknown);
  std::sort(unknown.begin(), unknown.end(), [](const Issue& a, const Issue& b) { return a.expression < b.expression; });
  EXPECT_EQ(unknown[0].severity, IssueSeverity::kWarning);
  EXPECT_EQ(unknown[1].severity, IssueSeverity::kWarning);
  EXPECT_EQ(unknown[1].expression, "Patient.extension[1]");
  EXPECT_EQ(unknown[2].severity, IssueSeverity::kWarning);
  EXPECT_EQ(unknown[2].expression, "Patient.modifierExtension[0]");
  EXPECT_TRUE(Says(unknown[2], "must not ignore it")) << unknown[2].message;
}

// A profile written as a differential, on Patient: what its snapshot is generated from.
constexpr char kPatientProfile[] = R"js({"resourceType":"StructureDefinition","url":"http://example.org/StructureDefinition/strict-patient",
  "name":"StrictPatient","status":"active","kind":"resource","abstract":false,"type":"Patient",
  "baseDefinition":"http://hl7.org/fhir/StructureDefinition/Patient","derivation":"constraint",
  "differential":{"element":[
    {"id":"Patient","path":"Patient","constraint":[{"key":"sp-1","severity":"error","human":"a patient needs a birth date or a reason",
      "expression":"birthDate.exists() or extension.exists()"}]},
    {"id":"Patient.identifier","path":"Patient.identifier","min":1,
     "slicing":{"discriminator":[{"type":"value","path":"system"}],"rules":"closed","ordered":true}},
    {"id":"Patient.identifier:mrn","path":"Patient.identifier","sliceName":"mrn","min":1,"max":"1"},
    {"id":"Patient.identifier:mrn.system","path":"Patient.identifier.system","fixedUri":"http://hospital.example/mrn"},
    {"id":"Patient.identifier:ssn","path":"Patient.identifier","sliceName":"ssn","max":"1"},
    {"id":"Patient.identifier:ssn.system","path":"Patient.identifier.system","fixedUri":"http://hl7.org/fhir/sid/us-ssn"},
    {"id":"Patient.name","path":"Patient.name","min":1},
    {"id":"Patient.gender","path":"Patient.gender","fixedCode":"female"},
    {"id":"Patient.maritalStatus","path":"Patient.maritalStatus","patternCodeableConcept":{"coding":[
      {"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"M"}]}},
    {"id":"Patient.generalPractitioner","path":"Patient.generalPractitioner","type":[{"code":"Reference",
      "targetProfile":["http://hl7.org/fhir/StructureDefinition/Practitioner"]}]},
    {"id":"Patient.deceased[x]","path":"Patient.deceased[x]","type":[{"code":"boolean"}]},
    {"id":"Patient.communication.language","path":"Patient.communication.language","binding":{"strength":"required",
      "valueSet":"http://hl7.org/fhir/ValueSet/administrative-gender"}}
  ]}})js";

constexpr char kGoodPatient[] = R"({"resourceType":"Patient","meta":{"profile":["http://example.org/StructureDefinition/strict-patient"]},
  "identifier":[{"system":"http://hospital.example/mrn","value":"1"},{"system":"http://hl7.org/fhir/sid/us-ssn","value":"2"}],
  "name":[{"family":"A"}],"gender":"female","birthDate":"1970",
  "maritalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"M","display":"Married"}]},
  "generalPractitioner":[{"reference":"Practitioner/1"}],"deceasedBoolean":false})";

// kGoodPatient with one change: `from` replaced by `to`.
std::vector<Issue> PatientErrors(std::string_view from, std::string_view to) {
  const ProfileRegistry& registry = WithProfile(kPatientProfile);
  std::string json = kGoodPatient;
  std::size_t at = json.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) json.replace(at, from.size(), to);
  return Errors(Check(registry, json));
}

TEST(ProfileCheckTest, ADifferentialProfileGetsItsSnapshotAndItsRulesApply) {
  ASSERT_TRUE(WithProfile(kPatientProfile).Find("http://example.org/StructureDefinition/strict-patient")->generated_snapshot());
  EXPECT_TRUE(PatientErrors("", "").empty()) << Dump(PatientErrors("", ""));
  struct Case {
    std::string_view from, to, location, says;
  };
  const Case cases[] = {
      {R"("name":[{"family":"A"}],)", "", "Patient", "Patient.name: at least 1"},                                  // cardinality
      {R"("gender":"female")", R"("gender":"male")", "Patient.gender", "exactly 'female'"},                         // fixed
      {R"("code":"M","display")", R"("code":"S","display")", "Patient.maritalStatus", "must match"},                // pattern
      {R"("deceasedBoolean":false)", R"("deceasedDateTime":"2020")", "Patient.deceasedDateTime", "not allowed"},    // type
      {"Practitioner/1", "Organization/1", "Patient.generalPractitioner[0]", "points at a Organization"},           // target profile
      {R"("birthDate":"1970",)", "", "Patient", "sp-1"},                                                           // invariant
      {R"("name":[{"family":"A"}])", R"("name":[{"family":"A"}],"communication":[{"language":{"coding":[{"system":"urn:ietf:bcp:47","code":"fr"}]}}])",
       "Patient.communication[0].language", "required binding"},                                                   // binding
  };
  for (const Case& c : cases) {
    auto errors = PatientErrors(c.from, c.to);
    ASSERT_EQ(errors.size(), 1u) << c.says << Dump(errors);
    EXPECT_EQ(errors[0].expression, c.location) << c.says;
    EXPECT_TRUE(Says(errors[0], c.says)) << errors[0].message;
  }
}

TEST(ProfileCheckTest, SlicesAreMatchedByValueAndCheckedClosedAndOrdered) {
  // The mrn slice is required.
  auto missing = PatientErrors(R"({"system":"http://hospital.example/mrn","value":"1"},)", "");
  ASSERT_EQ(missing.size(), 1u) << Dump(missing);
  EXPECT_TRUE(Says(missing[0], "slice 'mrn'"));
  // At most one ssn.
  auto twice = PatientErrors(R"("value":"2"})", R"("value":"2"},{"system":"http://hl7.org/fhir/sid/us-ssn","value":"3"})");
  ASSERT_EQ(twice.size(), 1u) << Dump(twice);
  EXPECT_TRUE(Says(twice[0], "slice 'ssn'"));
  // Closed: an identifier of no slice is refused where it is.
  auto closed = PatientErrors(R"("value":"2"})", R"("value":"2"},{"system":"http://other.example","value":"4"})");
  ASSERT_EQ(closed.size(), 1u) << Dump(closed);
  EXPECT_EQ(closed[0].expression, "Patient.identifier[2]");
  EXPECT_TRUE(Says(closed[0], "closed slicing"));
  // Ordered: ssn before mrn.
  auto ordered = PatientErrors(R"({"system":"http://hospital.example/mrn","value":"1"},{"system":"http://hl7.org/fhir/sid/us-ssn","value":"2"})",
                               R"({"system":"http://hl7.org/fhir/sid/us-ssn","value":"2"},{"system":"http://hospital.example/mrn","value":"1"})");
  ASSERT_EQ(ordered.size(), 1u) << Dump(ordered);
  EXPECT_EQ(ordered[0].expression, "Patient.identifier[1]");
  EXPECT_TRUE(Says(ordered[0], "out of order"));
}

// Slicing by the other discriminators, on an Observation profile.
constexpr char kObservationProfile[] = R"js({"resourceType":"StructureDefinition","url":"http://example.org/StructureDefinition/panel",
  "name":"Panel","status":"active","kind":"resource","abstract":false,"type":"Observation",
  "baseDefinition":"http://hl7.org/fhir/StructureDefinition/Observation","derivation":"constraint",
  "differential":{"element":[
    {"id":"Observation.category","path":"Observation.category",
     "slicing":{"discriminator":[{"type":"pattern","path":"$this"}],"rules":"open"}},
    {"id":"Observation.category:lab","path":"Observation.category","sliceName":"lab","min":1,"max":"1",
     "patternCodeableConcept":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}},
    {"id":"Observation.component","path":"Observation.component",
     "slicing":{"discriminator":[{"type":"type","path":"value"}],"rules":"closed"}},
    {"id":"Observation.component:measured","path":"Observation.component","sliceName":"measured","min":1},
    {"id":"Observation.component:measured.value[x]","path":"Observation.component.value[x]","type":[{"code":"Quantity"}]},
    {"id":"Observation.component:noted","path":"Observation.component","sliceName":"noted"},
    {"id":"Observation.component:noted.value[x]","path":"Observation.component.value[x]","type":[{"code":"string"}]},
    {"id":"Observation.referenceRange","path":"Observation.referenceRange",
     "slicing":{"discriminator":[{"type":"exists","path":"age"}],"rules":"closed"}},
    {"id":"Observation.referenceRange:byAge","path":"Observation.referenceRange","sliceName":"byAge","max":"1"},
    {"id":"Observation.referenceRange:byAge.age","path":"Observation.referenceRange.age","min":1},
    {"id":"Observation.referenceRange:plain","path":"Observation.referenceRange","sliceName":"plain","max":"1"},
    {"id":"Observation.referenceRange:plain.age","path":"Observation.referenceRange.age","max":"0"},
    {"id":"Observation.extension","path":"Observation.extension",
     "slicing":{"discriminator":[{"type":"profile","path":"$this"}],"rules":"open"}},
    {"id":"Observation.extension:position","path":"Observation.extension","sliceName":"position","min":1,"max":"1",
     "type":[{"code":"Extension","profile":["http://hl7.org/fhir/StructureDefinition/observation-bodyPosition"]}]}
  ]}})js";

constexpr char kPosition[] = R"("extension":[{"url":"http://hl7.org/fhir/StructureDefinition/observation-bodyPosition",
    "valueCodeableConcept":{"text":"sitting"}}],)";

std::vector<Issue> ObservationErrors(std::string_view extra) {
  const ProfileRegistry& registry = WithProfile(kObservationProfile);
  std::string json = R"({"resourceType":"Observation","meta":{"profile":["http://example.org/StructureDefinition/panel"]},)";
  json += kPosition;
  json += R"("status":"final","code":{"text":"panel"},
    "category":[{"text":"other"},{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}])";
  json += extra;
  json += "}";
  return Errors(Check(registry, json));
}

TEST(ProfileCheckTest, SlicesAreMatchedByPatternTypeAndExistence) {
  const char* components = R"(,"component":[{"code":{"text":"a"},"valueQuantity":{"value":1}},{"code":{"text":"b"},"valueString":"x"}])";
  EXPECT_TRUE(ObservationErrors(components).empty()) << Dump(ObservationErrors(components));
  // type: a component whose value is a boolean fits no slice of the closed slicing.
  auto type = ObservationErrors(R"(,"component":[{"code":{"text":"a"},"valueQuantity":{"value":1}},{"code":{"text":"c"},"valueBoolean":true}])");
  ASSERT_EQ(type.size(), 1u) << Dump(type);
  EXPECT_EQ(type[0].expression, "Observation.component[1]");
  // ... and the measured slice is required.
  auto measured = ObservationErrors(R"(,"component":[{"code":{"text":"b"},"valueString":"x"}])");
  ASSERT_EQ(measured.size(), 1u) << Dump(measured);
  EXPECT_TRUE(Says(measured[0], "slice 'measured'"));
  // pattern: without the laboratory category, the lab slice is missing.
  // profile: without the body position extension (matched by conforming to its definition),
  // the position slice is missing.
  auto pattern = Errors(Check(WithProfile(kObservationProfile), R"({"resourceType":"Observation",
    "meta":{"profile":["http://example.org/StructureDefinition/panel"]},"status":"final","code":{"text":"p"},
    "category":[{"text":"other"}],"component":[{"code":{"text":"a"},"valueQuantity":{"value":1}}]})"));
  ASSERT_EQ(pattern.size(), 2u) << Dump(pattern);
  std::sort(pattern.begin(), pattern.end(), [](const Issue& a, const Issue& b) { return a.message < b.message; });
  EXPECT_TRUE(Says(pattern[0], "slice 'lab'")) << Dump(pattern);
  EXPECT_TRUE(Says(pattern[1], "slice 'position'")) << Dump(pattern);
  // exists: one range with an age, one without; two without is one too many.
  EXPECT_TRUE(ObservationErrors(std::string(components) + R"(,"referenceRange":[{"text":"adult","age":{"low":{"value":18}}},{"text":"any"}])").empty());
  auto exists = ObservationErrors(std::string(components) + R"(,"referenceRange":[{"text":"x"},{"text":"y"}])");
  ASSERT_EQ(exists.size(), 1u) << Dump(exists);
  EXPECT_TRUE(Says(exists[0], "slice 'plain'"));
}

TEST(ProfileCheckTest, AProfileThatSlicesByItselfCannotMakeValidationRunAway) {
  // An extension whose parts are sliced by conformance to the extension itself, in twelve slices
  // that no part meets (each needs a value): each part would be checked against every slice,
  // recursively. The check stops at its work budget and says so.
  std::string elements = R"({"id":"Extension","path":"Extension"},{"id":"Extension.value[x]","path":"Extension.value[x]","min":1},
    {"id":"Extension.extension","path":"Extension.extension","slicing":{"discriminator":[{"type":"profile","path":"$this"}],"rules":"open"}})";
  for (int i = 0; i < 12; ++i) {
    elements += R"(,{"id":"Extension.extension:s)" + std::to_string(i) + R"(","path":"Extension.extension","sliceName":"s)" +
                std::to_string(i) + R"(","type":[{"code":"Extension","profile":["http://example.org/StructureDefinition/loop"]}]})";
  }
  ProfileRegistry& registry = WithProfile(R"({"resourceType":"StructureDefinition","url":"http://example.org/StructureDefinition/loop",
    "name":"Loop","status":"active","kind":"complex-type","abstract":false,"type":"Extension","context":[{"type":"element","expression":"Element"}],
    "baseDefinition":"http://hl7.org/fhir/StructureDefinition/Extension","derivation":"constraint","differential":{"element":[)" +
                                          elements + "]}}");
  std::string nested = R"({"url":"http://example.org/StructureDefinition/loop","valueString":"x"})";
  for (int depth = 0; depth < 8; ++depth) {
    nested = R"({"url":"http://example.org/StructureDefinition/loop","extension":[)" + nested + "," + nested + "]}";
  }
  auto issues = Check(registry, R"({"resourceType":"Patient","extension":[)" + nested + "]}");
  bool too_costly = false;
  for (const Issue& issue : issues) too_costly = too_costly || issue.type == IssueType::kTooCostly;
  EXPECT_TRUE(too_costly) << Dump(issues);
}

TEST(ProfileCheckTest, RefusesProfilesThatCannotBeBuilt) {
  ProfileRegistry registry(fhir::Definitions::R4());
  auto add = [&](std::string_view json) {
    auto tree = fhir::ParseJsonTree(json);
    EXPECT_TRUE(tree);
    return registry.Add(*tree);
  };
  EXPECT_EQ(add(R"({"resourceType":"StructureDefinition","type":"Patient"})").code(), StatusCode::kUnprocessable);
  EXPECT_EQ(add(R"({"resourceType":"StructureDefinition","url":"http://x/a","type":"Patient"})").code(), StatusCode::kUnprocessable);
  EXPECT_EQ(add(R"({"resourceType":"StructureDefinition","url":"http://x/b","type":"Patient",
    "baseDefinition":"http://example.org/unknown-base","differential":{"element":[{"id":"Patient","path":"Patient"}]}})").code(),
            StatusCode::kUnprocessable);
  EXPECT_EQ(add(R"({"resourceType":"StructureDefinition","url":"http://x/c","type":"Patient",
    "differential":{"element":[{"id":"Patient","path":"Patient","constraint":[{"key":"x-1","severity":"error","expression":"name.("}]}]}})").code(),
            StatusCode::kUnprocessable);
  EXPECT_EQ(add(R"({"resourceType":"StructureDefinition","url":"http://x/d","type":"Patient","derivation":"specialization",
    "differential":{"element":[{"id":"Patient","path":"Patient"}]}})").code(),
            StatusCode::kUnprocessable);
  EXPECT_EQ(registry.Find("http://x/c"), nullptr);
}

}  // namespace
}  // namespace ck::validation
