// FHIRPath parsing and evaluation over Chartkeeper's typed resource trees.
#include "fhirpath/expression.h"

#include <gtest/gtest.h>

#include "fhir/json_reader.h"

namespace ck::fhirpath {
namespace {

const fhir::Definitions& defs = fhir::Definitions::R4();

fhir::Resource Patient() {
  return *fhir::ReadResource(
      R"({"resourceType":"Patient","id":"p1","active":true,"birthDate":"1974-12-25","_birthDate":{"extension":[{"url":"http://x","valueString":"approx"}]},
          "name":[{"use":"official","family":"Chalmers","given":["Peter","James"]},{"use":"usual","given":["Jim"]}],
          "multipleBirthInteger":2})",
      defs);
}

// How many items `text` gives on `resource` (a failed evaluation fails the test and gives 0).
std::size_t CountOn(const fhir::Resource& resource, const std::string& text) {
  auto compiled = Expression::Compile(text);
  EXPECT_TRUE(compiled) << text;
  if (!compiled) return 0;
  auto result = compiled->Evaluate(resource, defs);
  EXPECT_TRUE(result) << text;
  return result ? result->size() : 0;
}

// The results of `text` on `resource` as strings, with `resolver` for resolve(). A failed
// compilation or evaluation fails the test and gives nothing.
std::vector<std::string> EvalWith(const fhir::Resource& resource, const std::string& text, const ReferenceResolver& resolver = {}) {
  auto compiled = Expression::Compile(text);
  EXPECT_TRUE(compiled) << text << ": " << compiled.error().message();
  if (!compiled) return {};
  auto result = compiled->Evaluate(resource, defs, {}, resolver);
  EXPECT_TRUE(result) << text << ": " << result.error().message();
  std::vector<std::string> out;
  if (result) {
    for (const Value& v : *result) out.push_back(v.ToString());
  }
  return out;
}

// The results of `text` on the patient, as strings.
std::vector<std::string> Eval(const std::string& text) { return EvalWith(Patient(), text); }

using Strings = std::vector<std::string>;

TEST(FhirPathTest, NavigatesPathsAndChoiceTypes) {
  EXPECT_EQ(Eval("Patient.name.given"), (Strings{"Peter", "James", "Jim"}));
  EXPECT_EQ(Eval("name.where(use = 'usual').given"), (Strings{"Jim"}));
  EXPECT_EQ(Eval("multipleBirth"), (Strings{"2"}));
  EXPECT_EQ(Eval("multipleBirth is integer"), (Strings{"true"}));
  EXPECT_EQ(Eval("birthDate.extension('http://x').value"), (Strings{"approx"}));
  EXPECT_EQ(Eval("birthDate.hasValue()"), (Strings{"true"}));
  EXPECT_EQ(Eval("id is id"), (Strings{"true"}));
}

TEST(FhirPathTest, IsFollowsTheHierarchyWhileAsAndOfTypeSelectExactPrimitives) {
  auto map = fhir::ReadResource(
      R"({"resourceType":"ConceptMap","status":"draft","sourceCanonical":"http://example.org/vs","version":"2"})", defs);
  ASSERT_TRUE(map);
  EXPECT_EQ(CountOn(*map, "ConceptMap.source.where($this is uri)"), 1u);      // a canonical is a uri
  EXPECT_EQ(CountOn(*map, "ConceptMap.source.where($this is canonical)"), 1u);
  EXPECT_EQ(CountOn(*map, "ConceptMap.source as uri"), 0u);                   // the source-uri parameter
  EXPECT_EQ(CountOn(*map, "ConceptMap.source as canonical"), 1u);             // the source parameter
  EXPECT_EQ(CountOn(*map, "ConceptMap.source.ofType(uri)"), 0u);
  EXPECT_EQ(CountOn(*map, "ConceptMap.version.where($this is code)"), 0u);   // a string is not a code
  EXPECT_EQ(Eval("id.is(string)"), (Strings{"true"}));
  EXPECT_EQ(Eval("id.as(string)"), (Strings{}));
  EXPECT_EQ(Eval("active is System.Boolean"), (Strings{"false"}));
}

TEST(FhirPathTest, FollowsOperatorPrecedence) {
  EXPECT_EQ(Eval("1 + 2 * 3"), (Strings{"7"}));
  EXPECT_EQ(Eval("(1 + 2) * 3"), (Strings{"9"}));
  EXPECT_EQ(Eval("true or false and false"), (Strings{"true"}));
  EXPECT_EQ(Eval("false implies false implies false"), (Strings{"true"}));  // right-associative
  EXPECT_EQ(Eval("2 | 1 | 2"), (Strings{"2", "1"}));
  EXPECT_EQ(Eval("-1 + 3"), (Strings{"2"}));
}

TEST(FhirPathTest, ShowsDecimalResultsWithTheDigitsTheyNeed) {
  EXPECT_EQ(Eval("1.1 * 3"), (Strings{"3.3"}));
  EXPECT_EQ(Eval("1.50 * 2"), (Strings{"3.00"}));  // never fewer digits than an operand
  EXPECT_EQ(Eval("10 / 4"), (Strings{"2.5"}));
  EXPECT_EQ(Eval("2 / 3"), (Strings{"0.66666667"}));  // at most 8 places
  EXPECT_EQ(Eval("0.1 + 0.2 = 0.3"), (Strings{"true"}));
}

TEST(FhirPathTest, PropagatesEmptyAndThreeValuedLogic) {
  EXPECT_EQ(Eval("{} = 1"), Strings{});
  EXPECT_EQ(Eval("{} and true"), Strings{});
  EXPECT_EQ(Eval("{} and false"), (Strings{"false"}));
  EXPECT_EQ(Eval("{} or true"), (Strings{"true"}));
  EXPECT_EQ(Eval("@2012-04 = @2012-04-15"), Strings{});  // different precisions
}

TEST(FhirPathTest, ComparesDatesAndQuantities) {
  EXPECT_EQ(Eval("birthDate < @2000-01-01"), (Strings{"true"}));
  EXPECT_EQ(Eval("@2019-03-01 + 24 months"), (Strings{"2021-03-01"}));
  EXPECT_EQ(Eval("1 'g' = 1000 'mg'"), (Strings{"true"}));
  EXPECT_EQ(Eval("7 days = 1 week"), (Strings{"true"}));
}

TEST(FhirPathTest, ComparesAndCombinesQuantitiesWithUcum) {
  EXPECT_EQ(Eval("1 'kg' = 2.2046226218487757 '[lb_av]'"), (Strings{"true"}));
  EXPECT_EQ(Eval("250 'mg/dL' = 2.5 'g/L'"), (Strings{"true"}));
  EXPECT_EQ(Eval("37 'Cel' > 98 '[degF]'"), (Strings{"true"}));
  EXPECT_EQ(Eval("1 'mmol/L' ~ 1.0 'umol/mL'"), (Strings{"true"}));
  EXPECT_EQ(Eval("1 'g' = 1 'm'"), (Strings{}));           // not commensurable: empty
  EXPECT_EQ(Eval("1 '[IU]' = 1 '1'"), (Strings{}));        // arbitrary units stand apart
  EXPECT_EQ(Eval("1 year = 1 'a'"), (Strings{}));          // calendar years have no fixed length
  EXPECT_EQ(Eval("1 'kg' + 500 'g'"), (Strings{"1.5 'kg'"}));
  EXPECT_EQ(Eval("(2.0 'cm' * 3.0 'm') = 0.06 'm2'"), (Strings{"true"}));
  EXPECT_EQ(Eval("(4 'g' / 2 'dL') = 2 'g/dL'"), (Strings{"true"}));
  EXPECT_EQ(Eval("(1 'mg' / 1 '/min') = 1 'mg.min'"), (Strings{"true"}));
  EXPECT_EQ(Eval("3 days * 2"), (Strings{"6 days"}));
  EXPECT_EQ(Eval("2 * 3 'mg'"), (Strings{"6 'mg'"}));
  EXPECT_EQ(Eval("1 'mg' / 0 'g'"), (Strings{}));
  EXPECT_EQ(Eval("4 'g' / 3 'dL'"), (Strings{"1.33333333 'g/dL'"}));
  auto observation = fhir::ReadResource(
      R"({"resourceType":"Observation","status":"final","code":{"text":"glucose"},
          "valueQuantity":{"value":5.5,"unit":"mmol/l","system":"http://unitsofmeasure.org","code":"mmol/L"}})",
      defs);
  ASSERT_TRUE(observation);
  EXPECT_EQ(CountOn(*observation, "Observation.value.where($this > 5000 'umol/L')"), 1u);
  for (const char* text : {"1 'kg' + 1 'm'", "1 'Cel' * 1 'm'", "1 'xyz' * 1 'm'", "1 year * 1 'm'"}) {
    auto compiled = Expression::Compile(text);
    ASSERT_TRUE(compiled) << text;
    auto result = compiled->Evaluate(*observation, defs);
    ASSERT_FALSE(result) << text;
    EXPECT_NE(result.error().message().find("cannot"), std::string::npos) << result.error().message();
  }
}

TEST(FhirPathTest, ReportsSyntaxErrorsWithTheirPosition) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"2 + 2 /", "at 7: expected an expression before the end"},
      {"name.", "at 5: expected a name or a function after '.'"},
      {"name.where(use = 'x'", "at 20: expected ')' before the end"},
      {"'unterminated", "at 0: unterminated quoted text"},
      {"2 + 2 /* open", "unterminated comment"},
      {"name ! given", "unexpected character '!'"},
      {"@2015-13", "malformed date/time literal"},
  };
  for (const Case& c : cases) {
    auto compiled = Expression::Compile(c.text);
    ASSERT_FALSE(compiled) << c.text;
    EXPECT_EQ(compiled.error().code(), StatusCode::kInvalid);
    EXPECT_NE(compiled.error().message().find(c.message), std::string::npos) << c.text << ": " << compiled.error().message();
  }
}

// Regression (found by fuzz/fhirpath_parser_fuzzer): deep nesting overflowed the stack.
TEST(FhirPathTest, RefusesDeepNestingWithoutCrashing) {
  for (const std::string& text : {std::string(100000, '('), std::string(100000, '-') + "1",
                                  [] {
                                    std::string nested_indexers;
                                    for (int i = 0; i < 50000; ++i) nested_indexers += "a[";
                                    return nested_indexers + "0";
                                  }(),
                                  [] {  // a long left-associative chain: built by a loop, still deep
                                    std::string chain = "0";
                                    for (int i = 0; i < 1000; ++i) chain += ">0~0";
                                    return chain;
                                  }()}) {
    auto compiled = Expression::Compile(text);
    ASSERT_FALSE(compiled);
    EXPECT_NE(compiled.error().message().find("nested deeper than"), std::string::npos) << compiled.error().message();
  }
  std::string deep_but_fine;
  for (int i = 0; i < 50; ++i) deep_but_fine += "(";
  deep_but_fine += "1";
  for (int i = 0; i < 50; ++i) deep_but_fine += ")";
  EXPECT_EQ(Eval(deep_but_fine), (Strings{"1"}));
}

// Regressions (found by fuzz/fhirpath_parser_fuzzer): conversions of untrusted text threw.
TEST(FhirPathTest, ConvertsHostileNumbersWithoutThrowing) {
  EXPECT_EQ(Eval("'74*57374'.decode('hex')"), Strings{});
  EXPECT_EQ(Eval("'99999999999999999999999'.toInteger()"), Strings{});
  EXPECT_EQ(Eval("'" + std::string(400, '9') + "'.toDecimal()"), Strings{});
  EXPECT_EQ(Eval("'" + std::string(400, '9') + " g'.toQuantity()"), Strings{});
  EXPECT_FALSE(Expression::Compile(std::string(400, '9') + ".5"));
}

// Regression (found by fuzz/fhirpath_parser_fuzzer): a huge duration added to a date overflowed
// the conversion to whole units. Dates stay in the years 1-9999; beyond is an evaluation error.
TEST(FhirPathTest, AddsDurationsOnlyWithinTheCalendar) {
  EXPECT_EQ(Eval("@2019-03-01T10:00:00.000Z - 1 'ms'"), (Strings{"2019-03-01T09:59:59.999Z"}));
  EXPECT_EQ(Eval("@T00:00:00.000 - 1 'ms'"), (Strings{"23:59:59.999"}));
  EXPECT_EQ(Eval("@9999-12-31 + 0 days"), (Strings{"9999-12-31"}));
  EXPECT_EQ(Eval("@2019-03-01 + 2 weeks"), Eval("@2019-03-01 + 2 'wk'"));  // keywords and UCUM codes alike
  EXPECT_EQ(Eval("@T10:00:00 + 90 'min'"), (Strings{"11:30:00"}));
  fhir::Resource patient = Patient();
  const std::vector<std::string> too_far = {"@1973-12-25 + " + std::string(90, '5') + " year",
                                            "@1973-12-25 + " + std::string(30, '5') + " 'ms'", "@9999-12-31 + 1 day",
                                            "@0001-01-01 - 1 month", "@2000 + 8000 years"};
  for (const std::string& text : too_far) {
    auto compiled = Expression::Compile(text);
    ASSERT_TRUE(compiled) << text;
    auto result = compiled->Evaluate(patient, defs);
    ASSERT_FALSE(result) << text;
    EXPECT_NE(result.error().message().find("not a date in the years 1-9999"), std::string::npos) << result.error().message();
  }
}

// Regression (found by fuzz/fhirpath_parser_fuzzer): std::regex backtracked for ever on hostile
// patterns. RE2 matches in linear time.
TEST(FhirPathTest, MatchesHostilePatternsInLinearTime) {
  std::string input(5000, 'a');
  EXPECT_EQ(Eval("'" + input + "!'.matches('^(a+)+$')"), (Strings{"false"}));
  EXPECT_EQ(Eval("'" + input + "!'.matchesFull('(a|aa)*')"), (Strings{"false"}));
  EXPECT_EQ(Eval("'2024-01-02'.replaceMatches('([0-9]+)-([0-9]+)-([0-9]+)', '$3/$2/$1')"), (Strings{"02/01/2024"}));
  EXPECT_EQ(Eval("'a\nb'.matches('a.b')"), (Strings{"true"}));  // single-line mode
  fhir::Resource patient = Patient();
  EXPECT_FALSE(Expression::Compile("'x'.matches('(')")->Evaluate(patient, defs));
}

// Regression (found by the full differential run): complex values are equal member-wise, so a
// union keeps one of two identical quantities.
TEST(FhirPathTest, ComparesComplexValuesMemberWise) {
  auto observation = fhir::ReadResource(
      R"({"resourceType":"Observation","status":"final","code":{"text":"bp"},"component":[
          {"code":{"text":"systolic"},"valueQuantity":{"value":119,"unit":"mm[Hg]"}},
          {"code":{"text":"diastolic"},"valueQuantity":{"value":119,"unit":"mm[Hg]"}}]})",
      defs);
  ASSERT_TRUE(observation);
  EXPECT_EQ(CountOn(*observation, "Observation.component.value | Observation.component.value"), 1u);
  EXPECT_EQ(CountOn(*observation, "Observation.component.code | Observation.component.code"), 2u);
  EXPECT_EQ(CountOn(*observation, "Observation.component[0].value = Observation.component[1].value"), 1u);
}

TEST(FhirPathTest, ChecksCoreProfilesAndModifiers) {
  EXPECT_EQ(Eval("conformsTo('http://hl7.org/fhir/StructureDefinition/Patient')"), (Strings{"true"}));
  EXPECT_EQ(Eval("conformsTo('http://hl7.org/fhir/StructureDefinition/DomainResource')"), (Strings{"true"}));
  EXPECT_EQ(Eval("conformsTo('http://hl7.org/fhir/StructureDefinition/Person')"), (Strings{"false"}));
  EXPECT_EQ(Eval("Patient.checkModifiers().id"), (Strings{"p1"}));
  fhir::Resource patient = Patient();
  for (const char* text : {"conformsTo('http://example.org/profile')", "gender.memberOf('http://hl7.org/fhir/ValueSet/administrative-gender')",
                           "slice('x', 'y')", "elementDefinition()"}) {
    auto result = Expression::Compile(text)->Evaluate(patient, defs);
    ASSERT_FALSE(result) << text;
    EXPECT_EQ(result.error().code(), StatusCode::kNotImplemented) << result.error().message();
  }
}

TEST(FhirPathTest, HtmlChecksAppliesTheNarrativeRules) {
  auto observation = fhir::ReadResource(
      R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
          "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>ok</p></div>"}})",
      defs);
  ASSERT_TRUE(observation) << observation.error().message();
  auto checks = Expression::Compile("text.div.htmlChecks()");
  ASSERT_TRUE(checks);
  auto result = checks->Evaluate(*observation, defs);
  ASSERT_TRUE(result && result->size() == 1);
  EXPECT_EQ((*result)[0].ToString(), "true");
  EXPECT_EQ(Eval("'<b>bold</b> text'.htmlChecks()"), (Strings{"true"}));
  EXPECT_EQ(Eval("'<script>alert(1)</script>'.htmlChecks()"), (Strings{"false"}));
  EXPECT_EQ(Eval("'a &nbsp; b'.htmlChecks()"), (Strings{"false"}));
  EXPECT_EQ(Eval("' '.htmlChecks()"), (Strings{"false"}));
  EXPECT_EQ(Eval("gender.htmlChecks()"), (Strings{}));        // a code, but the patient has none
  EXPECT_EQ(Eval("active.htmlChecks()"), (Strings{}));        // not text
  EXPECT_EQ(Eval("name.given.htmlChecks()"), (Strings{}));    // several items
}

TEST(FhirPathTest, ReportsEvaluationErrors) {
  fhir::Resource patient = Patient();
  for (const char* text : {"name.given.single()", "1 + 'a'", "name < 3", "name.nope()", "%unknown", "name.family.substring('x')",
                           "'0.1'.matches()", "'a'.replace('a')", "iif(true)", "{}.aggregate()",
                           "2147483647 * 2147483647 * 2147483647", "-2147483647 * 2147483647 * 2147483647",
                           "2147483647 * 2147483647 * 2 + 2147483647 * 2147483647 * 2"}) {
    auto compiled = Expression::Compile(text);
    ASSERT_TRUE(compiled) << text;
    auto result = compiled->Evaluate(patient, defs);
    EXPECT_FALSE(result) << text;
  }
}

TEST(FhirPathTest, ResolvesReferencesToTheirTypeWithoutAServer) {
  auto observation = fhir::ReadResource(
      R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"performer":[{"reference":"http://x/fhir/Practitioner/d1/_history/2"}]})",
      defs);
  ASSERT_TRUE(observation);
  EXPECT_EQ(CountOn(*observation, "Observation.subject.where(resolve() is Patient)"), 1u);
  EXPECT_EQ(CountOn(*observation, "Observation.subject.where(resolve() is Group)"), 0u);
  EXPECT_EQ(CountOn(*observation, "Observation.performer.resolve().ofType(Practitioner)"), 1u);
}

TEST(FhirPathTest, ResolvesContainedResourcesAndBundleEntries) {
  auto bundle = fhir::ReadResource(
      R"({"resourceType":"Bundle","type":"collection","entry":[
          {"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a","resource":{"resourceType":"Patient","name":[{"family":"ByUuid"}]}},
          {"fullUrl":"http://x/fhir/Patient/p1","resource":{"resourceType":"Patient","id":"p1","name":[{"family":"ByTypeAndId"}]}},
          {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
            "subject":{"reference":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"},
            "performer":[{"reference":"Patient/p1/_history/3"},{"reference":"http://x/fhir/Patient/p1"},{"reference":"#dr"}],
            "contained":[{"resourceType":"Practitioner","id":"dr","name":[{"family":"Contained"}]}]}}]})",
      defs);
  ASSERT_TRUE(bundle) << bundle.error().message();
  EXPECT_EQ(EvalWith(*bundle, "entry.resource.ofType(Observation).subject.resolve().name.family"), (Strings{"ByUuid"}));
  EXPECT_EQ(EvalWith(*bundle, "entry.resource.ofType(Observation).performer[0].resolve().name.family"), (Strings{"ByTypeAndId"}));
  EXPECT_EQ(EvalWith(*bundle, "entry.resource.ofType(Observation).performer[1].resolve().name.family"), (Strings{"ByTypeAndId"}));
  EXPECT_EQ(EvalWith(*bundle, "'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a'.resolve().name.family"), (Strings{"ByUuid"}));
  auto observation = fhir::ReadResource(
      R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p9"},
          "performer":[{"reference":"#dr"}],"contained":[{"resourceType":"Practitioner","id":"dr","name":[{"family":"Contained"}]}]})",
      defs);
  ASSERT_TRUE(observation);
  EXPECT_EQ(EvalWith(*observation, "performer.resolve().name.family"), (Strings{"Contained"}));
  EXPECT_EQ(EvalWith(*observation, "'#nobody'.resolve()"), (Strings{}));
}

TEST(FhirPathTest, AsksTheServersResolverForOtherReferences) {
  auto observation = fhir::ReadResource(
      R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p9"},"focus":[{"reference":"Group/g1"}]})",
      defs);
  ASSERT_TRUE(observation);
  fhir::Resource stored = *fhir::ReadResource(R"({"resourceType":"Patient","id":"p9","name":[{"family":"FromTheStore"}]})", defs);
  std::vector<std::string> asked;
  ReferenceResolver resolver = [&](std::string_view reference) -> const fhir::Resource* {
    asked.emplace_back(reference);
    return reference == "Patient/p9" ? &stored : nullptr;
  };
  EXPECT_EQ(EvalWith(*observation, "subject.resolve().name.family", resolver), (Strings{"FromTheStore"}));
  // Unknown to the resolver: a stand-in of the referenced type, with no content.
  EXPECT_EQ(EvalWith(*observation, "focus.resolve() is Group", resolver), (Strings{"true"}));
  EXPECT_EQ(EvalWith(*observation, "focus.resolve().name", resolver), (Strings{}));
  EXPECT_EQ(asked, (Strings{"Patient/p9", "Group/g1", "Group/g1"}));
}

TEST(FhirPathTest, ReceivesEnvironmentVariables) {
  fhir::Resource patient = Patient();
  auto compiled = Expression::Compile("%limit + 1");
  auto result = compiled->Evaluate(patient, defs, {{"limit", {Value::Integer(41)}}});
  ASSERT_TRUE(result);
  EXPECT_EQ((*result)[0].integer, 42);
}

}  // namespace
}  // namespace ck::fhirpath

namespace ck::fhirpath {
namespace {

// Every R4 SearchParameter expression parses and passes the type check for each of its base
// resource types (the type checker must never refuse valid FHIRPath).
TEST(FhirPathTest, CompilesEveryR4SearchParameterExpression) {
  int compiled = 0;
  for (const fhir::SearchParameterDefinition& parameter : defs.SearchParameters()) {
    if (parameter.expression.empty()) continue;
    for (const std::string& base : parameter.bases) {
      const fhir::TypeDefinition* type = defs.FindType(base);
      ASSERT_NE(type, nullptr) << base;
      auto expression = Expression::Compile(parameter.expression, defs, *type);
      EXPECT_TRUE(expression) << parameter.code << " on " << base << ": " << parameter.expression << "\n  "
                              << expression.error().message();
      ++compiled;
    }
  }
  EXPECT_GT(compiled, 1300);
}

TEST(FhirPathTest, TypeCheckRefusesPathsThatCannotExist) {
  const fhir::TypeDefinition& patient = *defs.FindResourceType("Patient");
  for (const char* text : {"name.given1", "Patient.name.as(Strange).use", "children().first()", "Patient.valueQuantity"}) {
    auto expression = Expression::Compile(text, defs, patient);
    ASSERT_FALSE(expression) << text;
    EXPECT_NE(expression.error().message().find("FHIRPath type error"), std::string::npos) << expression.error().message();
  }
  // A path for another resource type is empty in standard mode and an error in strict mode.
  EXPECT_TRUE(Expression::Compile("Encounter.status | Patient.gender", defs, patient));
  EXPECT_FALSE(Expression::Compile("Encounter.status", defs, patient, TypeCheck::kStrict));
  EXPECT_TRUE(Expression::Compile("Patient.name.where(use = 'official').given.first()", defs, patient));
  EXPECT_TRUE(Expression::Compile("Patient.contained.ofType(Organization).name", defs, patient));
}

}  // namespace
}  // namespace ck::fhirpath
