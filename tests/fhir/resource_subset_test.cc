// Subsets for _summary and _elements, on bound resources: backbone elements are filtered by their
// own summary flags, a data type's value is kept whole, mandatory elements stay for text and
// elements, and the SUBSETTED tag goes into meta (made after id when missing).
#include "fhir/resource_subset.h"

#include <gtest/gtest.h>

#include "fhir/definitions.h"
#include "fhir/json_reader.h"
#include "fhir/json_writer.h"

namespace ck::fhir {
namespace {

std::string Subsetted(const std::string& json, Subset subset) {
  auto resource = ReadResource(json, Definitions::R4());
  EXPECT_TRUE(resource) << resource.error().ToString();
  ApplySubset(*resource, subset);
  return WriteJson(resource->root());
}

constexpr char kTag[] = R"({"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED"})";

TEST(ResourceSubsetTest, SummaryFiltersBackboneElementsByTheirOwnFlags) {
  const std::string observation =
      R"({"resourceType":"Observation","id":"o","meta":{"versionId":"2"},"status":"final","code":{"text":"bp"},)"
      R"("note":[{"text":"n"}],"component":[{"code":{"text":"sys"},"valueQuantity":{"value":120,"unit":"mmHg"},)"
      R"("interpretation":[{"text":"high"}]}]})";
  EXPECT_EQ(Subsetted(observation, {Subset::Mode::kSummary}),
            std::string(R"({"resourceType":"Observation","id":"o","meta":{"versionId":"2","tag":[)") + kTag +
                R"(]},"status":"final","code":{"text":"bp"},"component":[{"code":{"text":"sys"},"valueQuantity":{"value":120,"unit":"mmHg"}}]})");
  EXPECT_EQ(Subsetted(observation, {}), observation);
}

TEST(ResourceSubsetTest, ElementNamesAreTheCommaSeparatedNamesTrimmed) {
  EXPECT_EQ(ElementNames("name"), (std::vector<std::string>{"name"}));
  EXPECT_EQ(ElementNames(" name , birthDate"), (std::vector<std::string>{"name", "birthDate"}));
  EXPECT_FALSE(ElementNames(""));
  EXPECT_FALSE(ElementNames("name,,gender"));
  EXPECT_FALSE(ElementNames("name, "));
}

TEST(ResourceSubsetTest, ElementsKeepTheNamedAndTheMandatoryOnes) {
  const std::string patient = R"({"resourceType":"Patient","id":"p","gender":"male","birthDate":"1970","_birthDate":{"extension":[)"
                              R"({"url":"http://x","valueString":"y"}]},"deceasedBoolean":false})";
  EXPECT_EQ(Subsetted(patient, {Subset::Mode::kElements, {"birthDate", "deceased"}}),
            std::string(R"({"resourceType":"Patient","id":"p","meta":{"tag":[)") + kTag +
                R"(]},"birthDate":"1970","_birthDate":{"extension":[{"url":"http://x","valueString":"y"}]},"deceasedBoolean":false})");
  EXPECT_EQ(Subsetted(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"issued":"2020-01-01T00:00:00Z"})",
                      {Subset::Mode::kText}),
            std::string(R"({"resourceType":"Observation","meta":{"tag":[)") + kTag + R"(]},"status":"final","code":{"text":"x"}})");
}

}  // namespace
}  // namespace ck::fhir
