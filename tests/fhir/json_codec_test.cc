// Specification of FHIR JSON reading and writing: what is accepted and written back exactly, and
// every rule by which input is refused (with the status and the FHIRPath location reported).
#include <gtest/gtest.h>

#include "fhir/json_reader.h"
#include "fhir/json_writer.h"

namespace ck::fhir {
namespace {

const Definitions& defs = Definitions::R4();

std::string RoundTrip(std::string_view json) {
  auto resource = ReadResource(json, defs);
  EXPECT_TRUE(resource) << resource.error().ToString();
  return resource ? WriteJson(resource->root()) : "";
}

TEST(JsonReadTest, RoundTripsExactly) {
  const std::string_view cases[] = {
      R"({"resourceType":"Patient","id":"p1","active":true,"birthDate":"1970-01-01"})",
      R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50,"unit":"mg"}})",
      R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1e2}})",
      R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":123456789012345678901234567890.000000000000000001}})",
      R"({"resourceType":"Patient","birthDate":"1970","_birthDate":{"extension":[{"url":"http://x","valueString":"y"}]}})",
      R"({"resourceType":"Patient","name":[{"given":["A",null],"_given":[null,{"id":"g2","extension":[{"url":"u","valueCode":"c"}]}]}]})",
      R"({"resourceType":"Patient","extension":[{"url":"http://example.org/ext","valueDecimal":0.10}],"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">é \"q\"</div>"}})",
      R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"a"}}]})",
      R"({"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o","name":"Org"}],"managingOrganization":{"reference":"#o"}})",
      R"({"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group","item":[{"linkId":"1.1","type":"string"}]}]})",
  };
  for (std::string_view json : cases) EXPECT_EQ(RoundTrip(json), json);
}

TEST(JsonReadTest, AcceptsResourceTypeAnywhereAndKeepsOrder) {
  EXPECT_EQ(RoundTrip(R"({"id":"x","resourceType":"Patient"})"), R"({"id":"x","resourceType":"Patient"})");
}

TEST(JsonReadTest, BindsTypesOfChoiceElementsAndNestedResources) {
  auto resource = ReadResource(
      R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"s"}}]})",
      defs);
  ASSERT_TRUE(resource);
  EXPECT_EQ(resource->type_name(), "Bundle");
  const Node& observation = resource->root().Find("entry")->values[0].Find("resource")->values[0];
  EXPECT_EQ(observation.type->name, "Observation");
  const Property* value = observation.Find("valueString");
  EXPECT_EQ(value->slot->element->path, "Observation.value[x]");
  EXPECT_EQ(value->values[0].type->name, "string");
}

struct Rejection {
  std::string_view name;
  std::string_view json;
  StatusCode code;
  std::string_view expression;  // FHIRPath location of the first issue ("" when not located)
  std::string_view message_part;
};

const Rejection kRejections[] = {
    {"InvalidJson", R"({"resourceType":"Patient",})", StatusCode::kInvalid, "", "invalid JSON"},
    {"TrailingGarbage", R"({"resourceType":"Patient"} x)", StatusCode::kInvalid, "", "invalid JSON"},
    {"InvalidUtf8", "{\"resourceType\":\"Patient\",\"gender\":\"\xC3\x28\"}", StatusCode::kInvalid, "", "invalid JSON"},
    {"NulByte", std::string_view("{\"resourceType\":\"Patient\"}\0", 27), StatusCode::kInvalid, "", "NUL"},
    {"DuplicateKeys", R"({"resourceType":"Patient","gender":"male","gender":"female"})", StatusCode::kInvalid, "Patient", "duplicate key 'gender'"},
    {"UnknownElement", R"({"resourceType":"Patient","nmae":[{"family":"X"}]})", StatusCode::kInvalid, "Patient", "unknown element 'nmae'"},
    {"UnknownNestedElement", R"({"resourceType":"Patient","name":[{"famly":"X"}]})", StatusCode::kInvalid, "Patient.name[0]", "unknown element 'famly'"},
    {"ChoiceWithoutType", R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"value":1})", StatusCode::kInvalid, "Observation", "unknown element 'value'"},
    {"WrongJsonTypeForBoolean", R"({"resourceType":"Patient","active":"true"})", StatusCode::kInvalid, "Patient.active", "must be a boolean"},
    {"WrongJsonTypeForDecimal", R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":"1.5"}})", StatusCode::kInvalid, "Observation.valueQuantity.value", "must be a number"},
    {"WrongJsonTypeForString", R"({"resourceType":"Patient","gender":1})", StatusCode::kInvalid, "Patient.gender", "must be a string"},
    {"ObjectExpected", R"({"resourceType":"Patient","name":["Smith"]})", StatusCode::kInvalid, "Patient.name[0]", "must be an object"},
    {"BadDate", R"({"resourceType":"Patient","birthDate":"1970-02-30"})", StatusCode::kInvalid, "Patient.birthDate", "not a valid date"},
    {"BadInstant", R"({"resourceType":"Patient","meta":{"lastUpdated":"2020-01-01"}})", StatusCode::kInvalid, "Patient.meta.lastUpdated", "not a valid instant"},
    {"BadId", R"({"resourceType":"Patient","id":"a b"})", StatusCode::kInvalid, "Patient.id", "not a valid id"},
    {"BadCode", R"({"resourceType":"Patient","gender":" male"})", StatusCode::kInvalid, "Patient.gender", "not a valid code"},
    {"BadInteger", R"({"resourceType":"Patient","multipleBirthInteger":1.5})", StatusCode::kInvalid, "Patient.multipleBirthInteger", "not a valid integer"},
    {"HugeInteger", R"({"resourceType":"Patient","multipleBirthInteger":99999999999})", StatusCode::kInvalid, "Patient.multipleBirthInteger", "32-bit"},
    {"EmptyString", R"({"resourceType":"Patient","gender":""})", StatusCode::kInvalid, "Patient.gender", "empty strings"},
    {"EmptyStringInArrayItem", R"({"resourceType":"Patient","contact":[{"name":{"family":""}}]})", StatusCode::kInvalid, "Patient.contact[0].name.family", "empty strings"},
    {"EmptyStringInSecondItem", R"({"resourceType":"Patient","name":[{"family":"A"},{"given":["B",""]}]})", StatusCode::kInvalid, "Patient.name[1].given[1]", "empty strings"},
    {"ErrorBeforeResourceType", R"({"gender":"","resourceType":"Patient"})", StatusCode::kInvalid, "gender", "empty strings"},
    {"EmptyArray", R"({"resourceType":"Patient","name":[]})", StatusCode::kInvalid, "Patient.name", "empty arrays"},
    {"EmptyObject", R"({"resourceType":"Patient","maritalStatus":{}})", StatusCode::kInvalid, "Patient.maritalStatus", "empty objects"},
    {"EmptyObjectInArray", R"({"resourceType":"Patient","identifier":[{"value":"1"},{}]})", StatusCode::kInvalid, "Patient.identifier[1]", "empty objects"},
    {"NullOutsideArray", R"({"resourceType":"Patient","gender":null})", StatusCode::kInvalid, "Patient.gender", "null is only allowed inside arrays"},
    {"NullWithoutExtension", R"({"resourceType":"Patient","name":[{"given":["A",null]}]})", StatusCode::kInvalid, "Patient.name[0].given[1]", "null needs a value"},
    {"MisalignedPrimitiveArrays", R"({"resourceType":"Patient","name":[{"given":["A","B"],"_given":[null]}]})", StatusCode::kInvalid, "Patient.name[0].given", "same length"},
    {"TwoTypesOfOneChoice", R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"a","valueBoolean":true})", StatusCode::kInvalid, "Observation.valueBoolean", "value[x] takes one type"},
    {"ChoiceTypeAndAnotherTypesExtension", R"({"resourceType":"Patient","deceasedBoolean":true,"_deceasedDateTime":{"id":"x"}})", StatusCode::kInvalid, "Patient._deceasedDateTime", "deceased[x] takes one type"},
    {"MissingResourceType", R"({"id":"x"})", StatusCode::kInvalid, "resourceType", "resourceType"},
    {"UnknownResourceType", R"({"resourceType":"Patinet"})", StatusCode::kInvalid, "resourceType", "unknown resourceType"},
    {"AbstractResourceType", R"({"resourceType":"DomainResource"})", StatusCode::kInvalid, "resourceType", "unknown resourceType"},
    {"ArrayWhereOneAllowed", R"({"resourceType":"Patient","gender":["male"]})", StatusCode::kInvalid, "Patient.gender", "allows one value"},
    {"OneWhereArrayRequired", R"({"resourceType":"Patient","name":{"family":"X"}})", StatusCode::kInvalid, "Patient.name", "must be an array"},
    {"MissingRequiredElement", R"({"resourceType":"Observation","code":{"text":"x"}})", StatusCode::kUnprocessable, "Observation", "missing required element 'status'"},
    {"MissingRequiredNested", R"({"resourceType":"Patient","link":[{"type":"seealso"}]})", StatusCode::kUnprocessable, "Patient.link[0]", "missing required element 'other'"},
    {"BadNestedResource", R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","foo":1}}]})", StatusCode::kInvalid, "Bundle.entry[0].resource", "unknown element 'foo'"},
    {"NotAnObject", R"(["Patient"])", StatusCode::kInvalid, "", "JSON object"},
    {"NestedArrays", R"({"resourceType":"Patient","name":[[{"family":"X"}]]})", StatusCode::kInvalid, "Patient.name[0]", "arrays directly inside arrays"},
    {"BadNarrative", R"({"resourceType":"Patient","text":{"status":"generated","div":"plain"}})", StatusCode::kInvalid, "Patient.text.div", "xhtml"},
    {"NarrativeWithScript", R"({"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x<script>alert(1)</script></div>"}})", StatusCode::kInvalid, "Patient.text.div", "<script> is not allowed"},
    {"NarrativeWithHtmlEntity", R"({"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">a&nbsp;b</div>"}})", StatusCode::kInvalid, "Patient.text.div", "undefined entity"},
};

void PrintTo(const Rejection& r, std::ostream* os) { *os << r.name; }

class JsonRejectionTest : public testing::TestWithParam<Rejection> {};

TEST_P(JsonRejectionTest, RefusesWithStatusAndLocation) {
  const Rejection& r = GetParam();
  auto resource = ReadResource(r.json, defs);
  ASSERT_FALSE(resource) << "accepted: " << r.json;
  const Status& status = resource.error();
  EXPECT_EQ(status.code(), r.code) << status.ToString();
  ASSERT_FALSE(status.issues().empty());
  EXPECT_EQ(status.issues()[0].expression, r.expression) << status.ToString();
  EXPECT_NE(status.ToString().find(r.message_part), std::string::npos) << status.ToString();
}

INSTANTIATE_TEST_SUITE_P(Rules, JsonRejectionTest, testing::ValuesIn(kRejections),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(JsonReadTest, ReportsEveryProblemAtOnce) {
  auto resource = ReadResource(R"({"resourceType":"Patient","gender":1,"birthDate":"x","foo":true})", defs);
  ASSERT_FALSE(resource);
  EXPECT_EQ(resource.error().issues().size(), 3u);
}

TEST(JsonReadTest, RefusesDeepNestingWithoutCrashing) {
  std::string deep = R"({"resourceType":"Patient","extension":)";
  for (int i = 0; i < 100000; ++i) deep += R"([{"url":"u","extension":)";
  auto resource = ReadResource(deep, defs, {.max_depth = 64});
  ASSERT_FALSE(resource);
  EXPECT_EQ(resource.error().code(), StatusCode::kInvalid);
  EXPECT_NE(resource.error().message().find("deeper than 64"), std::string::npos);
}

TEST(JsonWriteTest, EscapesControlCharactersAndQuotes) {
  std::string out;
  AppendJsonString(out, std::string_view("a\"b\\c\n\x01", 7));
  EXPECT_EQ(out, R"("a\"b\\c\n\u0001")");
}

TEST(JsonWriteTest, PrettyPrintsWithTwoSpaces) {
  auto resource = ReadResource(R"({"resourceType":"Patient","name":[{"given":["A"]}]})", defs);
  ASSERT_TRUE(resource);
  EXPECT_EQ(WriteJson(resource->root(), {.pretty = true}),
            "{\n  \"resourceType\": \"Patient\",\n  \"name\": [\n    {\n      \"given\": [\n        \"A\"\n      ]\n    }\n  ]\n}");
}

TEST(ResourceTest, SetsIdAndVersionMetaKeepingOtherMeta) {
  auto resource = ReadResource(R"({"resourceType":"Patient","meta":{"versionId":"9","tag":[{"code":"t"}]},"active":true})", defs);
  ASSERT_TRUE(resource);
  resource->SetId("abc");
  resource->SetVersionMeta("2", "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(WriteJson(resource->root()),
            R"({"resourceType":"Patient","id":"abc","meta":{"versionId":"2","lastUpdated":"2026-01-01T00:00:00.000Z","tag":[{"code":"t"}]},"active":true})");
  EXPECT_EQ(resource->id(), "abc");
}

}  // namespace
}  // namespace ck::fhir

namespace ck::fhir {
namespace {

TEST(JsonWriteTest, PrettyPrintOfTextMatchesPrettyWriteOfTheTree) {
  const char* json = R"({"resourceType":"Patient","name":[{"given":["A, \"B\"",":{x}"]}],"active":true,"multipleBirthInteger":2})";
  auto resource = ReadResource(json, defs);
  ASSERT_TRUE(resource);
  EXPECT_EQ(PrettyPrintJson(json), WriteJson(resource->root(), {.pretty = true}));
}

}  // namespace
}  // namespace ck::fhir
