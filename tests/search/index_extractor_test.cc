// The search index values of a resource, as the R4 search page says each kind is matched: every
// R4 parameter's expression compiles for each type it applies to; dates and periods become
// intervals, numbers and quantities carry their precision (and UCUM base units), strings are
// normalized beside their exact form with names and addresses in parts, tokens keep system,
// code and text, references their type, id and version. Every Synthea resource of the sample
// is extracted without an error.
#include "search/index_extractor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "cli/input_file.h"
#include "support/bound_resource.h"

namespace ck::search {
namespace {

IndexEntries Extract(std::string_view json) {
  auto resource = testing::BoundResource(json);
  if (!resource) return {};
  auto entries = IndexExtractor::R4().Extract(*resource);
  EXPECT_TRUE(entries) << entries.error().ToString();
  return entries ? std::move(*entries) : IndexEntries{};
}

template <typename Entry>
std::vector<Entry> Of(const std::vector<Entry>& entries, std::string_view code) {
  std::vector<Entry> out;
  std::copy_if(entries.begin(), entries.end(), std::back_inserter(out), [&](const Entry& e) { return e.param->code == code; });
  return out;
}

Millis At(std::string_view instant) { return ParseFhirDateTimeRange(instant)->start; }

TEST(IndexExtractorTest, CompilesEveryParameterForEveryTypeItAppliesTo) {
  const IndexExtractor& extractor = IndexExtractor::R4();
  for (const std::string& failure : extractor.failed_to_compile()) ADD_FAILURE() << failure;
  std::vector<std::string> patient;
  for (Param param : extractor.ParametersOf("Patient")) patient.push_back(param->code);
  for (const char* code : {"name", "family", "birthdate", "identifier", "gender", "general-practitioner", "_id", "_tag", "_profile"}) {
    EXPECT_NE(std::find(patient.begin(), patient.end(), code), patient.end()) << code;
  }
  EXPECT_TRUE(extractor.ParametersOf("Robot").empty());
}

TEST(IndexExtractorTest, DatesAreIntervalsAndPeriodsMayBeOpen) {
  auto patient = Extract(R"({"resourceType":"Patient","birthDate":"1970"})");
  auto birth = Of(patient.dates, "birthdate");
  ASSERT_EQ(birth.size(), 1u);
  EXPECT_EQ(birth[0].start, At("1970-01-01T00:00:00Z"));
  EXPECT_EQ(birth[0].end, At("1971-01-01T00:00:00Z"));

  auto encounter = Extract(R"({"resourceType":"Encounter","status":"in-progress","class":{"code":"AMB"},
    "period":{"start":"2024-03-05T10:00:00+01:00"}})");
  auto date = Of(encounter.dates, "date");
  ASSERT_EQ(date.size(), 1u);
  EXPECT_EQ(date[0].start, At("2024-03-05T09:00:00Z"));
  EXPECT_EQ(date[0].end, kOpenEnd);

  auto observation = Extract(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
    "effectiveDateTime":"2024-03-05T10:15:30.250Z"})");
  auto effective = Of(observation.dates, "date");
  ASSERT_EQ(effective.size(), 1u);
  EXPECT_EQ(effective[0].end - effective[0].start, 1);  // kept to the millisecond
}

TEST(IndexExtractorTest, StringsAreNormalizedBesideTheExactFormAndNamesSearchedByPart) {
  auto patient = Extract(R"({"resourceType":"Patient","name":[{"family":"Müller","given":["Élodie","Anne"]}],
    "address":[{"line":["1 Rue de l'Église"],"city":"Genève","country":"CH"}]})");
  std::vector<std::string> name;
  for (const StringEntry& entry : Of(patient.strings, "name")) name.push_back(entry.normalized);
  EXPECT_EQ(name, (std::vector<std::string>{"elodie", "anne", "muller", "elodie anne muller"}));
  auto family = Of(patient.strings, "family");
  ASSERT_EQ(family.size(), 1u);
  EXPECT_EQ(family[0].exact, "Müller");
  auto city = Of(patient.strings, "address-city");
  ASSERT_EQ(city.size(), 1u);
  EXPECT_EQ(city[0].normalized, "geneve");
  EXPECT_EQ(Of(patient.strings, "address").size(), 4u);  // line, city, country, the whole address
}

TEST(IndexExtractorTest, TokensKeepSystemCodeAndTextAndIdentifierTypes) {
  auto patient = Extract(R"({"resourceType":"Patient","gender":"female","active":true,
    "deceasedBoolean":false,
    "identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},
      "system":"http://hospital.example/mrn","value":"12345"}],
    "telecom":[{"system":"phone","value":"555-0100"}]})");
  auto gender = Of(patient.tokens, "gender");
  ASSERT_EQ(gender.size(), 1u);
  EXPECT_EQ(gender[0].code, "female");
  EXPECT_EQ(Of(patient.tokens, "active")[0].code, "true");
  ASSERT_EQ(Of(patient.tokens, "deceased").size(), 1u);
  EXPECT_EQ(Of(patient.tokens, "deceased")[0].code, "false");
  auto identifier = Of(patient.tokens, "identifier");
  ASSERT_EQ(identifier.size(), 1u);
  EXPECT_EQ(identifier[0].system, "http://hospital.example/mrn");
  EXPECT_EQ(identifier[0].code, "12345");
  auto types = Of(patient.identifier_types, "identifier");
  ASSERT_EQ(types.size(), 1u);
  EXPECT_EQ(types[0].type_code, "MR");
  EXPECT_EQ(types[0].value, "12345");
  EXPECT_EQ(Of(patient.tokens, "phone")[0].code, "555-0100");
  EXPECT_TRUE(Of(patient.tokens, "email").empty());
  ASSERT_EQ(Of(patient.tokens, "_id").size(), 0u);  // no id yet: ids are given by the write

  auto observation = Extract(R"({"resourceType":"Observation","id":"o1","status":"final",
    "code":{"coding":[{"system":"http://loinc.org","code":"2339-0","display":"Glucose [Mass/volume] in Blood"}],"text":"Glucose"}})");
  auto code = Of(observation.tokens, "code");
  ASSERT_EQ(code.size(), 1u);
  EXPECT_EQ(code[0].system, "http://loinc.org");
  EXPECT_EQ(code[0].code, "2339-0");
  std::vector<std::string> text;  // for :text
  for (const StringEntry& entry : Of(observation.strings, "code")) text.push_back(entry.normalized);
  EXPECT_EQ(text, (std::vector<std::string>{"glucose [mass/volume] in blood", "glucose"}));
  EXPECT_EQ(Of(observation.tokens, "_id")[0].code, "o1");
}

TEST(IndexExtractorTest, NumbersAndQuantitiesCarryTheirPrecisionAndUcumBaseUnits) {
  auto risk = Extract(R"({"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/1"},
    "prediction":[{"probabilityDecimal":0.5}]})");
  auto probability = Of(risk.numbers, "probability");
  ASSERT_EQ(probability.size(), 1u);
  EXPECT_DOUBLE_EQ(probability[0].low, 0.45);
  EXPECT_DOUBLE_EQ(probability[0].high, 0.55);

  auto mg = Extract(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
    "valueQuantity":{"value":540,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}})");
  auto g = Extract(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
    "valueQuantity":{"value":5.4,"unit":"g/L","system":"http://unitsofmeasure.org","code":"g/L"}})");
  auto mmol = Extract(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
    "valueQuantity":{"value":30,"system":"http://unitsofmeasure.org","code":"mmol/L"}})");
  auto in_mg = Of(mg.quantities, "value-quantity");
  auto in_g = Of(g.quantities, "value-quantity");
  ASSERT_EQ(in_mg.size(), 1u);
  ASSERT_EQ(in_g.size(), 1u);
  EXPECT_DOUBLE_EQ(in_mg[0].low, 539.5);
  EXPECT_DOUBLE_EQ(in_mg[0].high, 540.5);
  ASSERT_TRUE(in_mg[0].has_canonical && in_g[0].has_canonical);
  EXPECT_EQ(in_mg[0].canonical_unit, in_g[0].canonical_unit);
  // 540 mg/dL is 5400 g/m3, as is 5.4 g/L: the intervals overlap around it.
  EXPECT_LE(in_mg[0].canonical_low, 5400.0 + 1e-9);
  EXPECT_GE(in_mg[0].canonical_high, 5400.0 - 1e-9);
  EXPECT_LE(in_g[0].canonical_low, 5400.0 + 1e-9);
  EXPECT_GE(in_g[0].canonical_high, 5400.0 - 1e-9);
  EXPECT_NE(Of(mmol.quantities, "value-quantity")[0].canonical_unit, in_g[0].canonical_unit);  // not commensurable
}

TEST(IndexExtractorTest, ReferencesKeepTypeIdVersionAndUrl) {
  auto patient = Extract(R"({"resourceType":"Patient",
    "generalPractitioner":[{"reference":"Practitioner/p1/_history/2"},{"identifier":{"system":"http://npi","value":"99"}}],
    "managingOrganization":{"reference":"http://other.example/fhir/Organization/o9"}})");
  auto gp = Of(patient.references, "general-practitioner");
  ASSERT_EQ(gp.size(), 1u);
  EXPECT_EQ(gp[0].type, "Practitioner");
  EXPECT_EQ(gp[0].id, "p1");
  EXPECT_EQ(gp[0].version, "2");
  auto logical = Of(patient.tokens, "general-practitioner");  // for :identifier
  ASSERT_EQ(logical.size(), 1u);
  EXPECT_EQ(logical[0].code, "99");
  auto organization = Of(patient.references, "organization");
  ASSERT_EQ(organization.size(), 1u);
  EXPECT_EQ(organization[0].url, "http://other.example/fhir/Organization/o9");

  auto observation = Extract(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
    "subject":{"reference":"Patient/123"}})");
  EXPECT_EQ(Of(observation.references, "subject").size(), 1u);
  ASSERT_EQ(Of(observation.references, "patient").size(), 1u);  // subject.where(resolve() is Patient)
  EXPECT_EQ(Of(observation.references, "patient")[0].id, "123");
}

TEST(IndexExtractorTest, ExtractsEverySyntheaResourceOfTheSample) {
  std::filesystem::path dir = std::filesystem::path(CK_SOURCE_DIR) / ".." / "shared" / "testdata" / "synthea";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::size_t resources = 0, entries = 0;
  for (std::size_t i = 0; i < files.size() && i < 6; ++i) {
    auto text = (*cli::InputFile::Open(files[i]))->ReadAll();
    ASSERT_TRUE(text);
    auto bundle = fhir::ReadResource(*text, fhir::Definitions::R4(), {.max_depth = 128});
    ASSERT_TRUE(bundle) << bundle.error().ToString();
    for (const fhir::Node& entry : bundle->root().Find("entry")->values) {
      fhir::Resource resource(entry.Find("resource")->values[0]);
      auto extracted = IndexExtractor::R4().Extract(resource);
      ASSERT_TRUE(extracted) << resource.type_name() << ": " << extracted.error().ToString();
      ++resources;
      entries += extracted->size();
    }
  }
  std::printf("synthea: %zu resources, %zu index entries (%.1f per resource)\n", resources, entries,
              resources ? static_cast<double>(entries) / resources : 0.0);
  EXPECT_GT(resources, 1000u);
}

}  // namespace
}  // namespace ck::search
