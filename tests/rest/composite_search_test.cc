// Composite search parameters over HTTP (code-value-quantity and its kin): the second
// component's value must be paired with the first component's code in the same element (a
// resource's value or one of its components; for MolecularSequence's coordinates of three, the
// start and end of the same variant or window), with the second component's own prefixes, units
// and matching rules; and the errors of a malformed composite value.
#include <gtest/gtest.h>

#include "support/http_client.h"
#include "support/json.h"
#include "support/put_resource.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace ck {
namespace {

using testing::HttpClient;
using testing::HttpResult;
using testing::ParseJson;
using Ids = std::vector<std::string>;

// An Observation with a LOINC code and `value` (a value[x] member, or "" for none) and `extra` members.
std::string Observation(const std::string& id, const std::string& code, const std::string& value, const std::string& extra = "") {
  return R"({"resourceType":"Observation","id":")" + id + R"(","status":"final","code":{"coding":[{"system":"http://loinc.org","code":")" +
         code + R"("}]})" + (value.empty() ? "" : "," + value) + extra + "}";
}

std::string MmHg(const std::string& value) {
  return R"({"value":)" + value + R"(,"system":"http://unitsofmeasure.org","code":"mm[Hg]"})";
}

class CompositeSearchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    server_ = new testing::ServerProcess(dir_->path());
    HttpClient client(server_->port());
    const std::string resources[] = {
        Observation("high", "8480-6", R"("valueQuantity":)" + MmHg("120")),
        Observation("normal", "8480-6", R"("valueQuantity":)" + MmHg("90")),
        Observation("kpa", "8480-6", R"("valueQuantity":{"value":16,"system":"http://unitsofmeasure.org","code":"kPa"})"),  // 120 mm[Hg]
        Observation("diastolic", "8462-4", R"("valueQuantity":)" + MmHg("130")),
        // A panel: systolic 95 and diastolic 140 in its components, no value of its own.
        Observation("panel", "85354-9", "",
                    R"(,"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":)" + MmHg("95") +
                        R"(},{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":)" + MmHg("140") + "}]"),
        Observation("smoker", "72166-2",
                    R"("valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"266919005"}]})"),
        Observation("string", "5778-6", R"("valueString":"a$b positive")"),
        Observation("dated", "21112-8", R"("valueDateTime":"2020-05-01")"),
        // Chromosome 1 with two variants, and a window from 100 to 300.
        R"({"resourceType":"MolecularSequence","id":"seq1","coordinateSystem":0,"referenceSeq":{"chromosome":{"coding":[
            {"system":"http://terminology.hl7.org/CodeSystem/chromosome-human","code":"1"}]},"genomeBuild":"GRCh37",
            "windowStart":100,"windowEnd":300},"variant":[{"start":120,"end":121},{"start":250,"end":260}]})",
        R"({"resourceType":"MolecularSequence","id":"seq2","coordinateSystem":0,"referenceSeq":{"chromosome":{"coding":[
            {"system":"http://terminology.hl7.org/CodeSystem/chromosome-human","code":"2"}]},"genomeBuild":"GRCh37"},
            "variant":[{"start":120,"end":121}]})",
        R"({"resourceType":"DocumentReference","id":"old","status":"superseded","content":[{"attachment":{"url":"http://x/old"}}]})",
        R"({"resourceType":"DocumentReference","id":"new","status":"current","content":[{"attachment":{"url":"http://x/doc"}}],
            "relatesTo":[{"code":"replaces","target":{"reference":"DocumentReference/old"}}]})",
    };
    for (const std::string& body : resources) {
      HttpResult put = testing::PutResource(client, body);
      ASSERT_LT(put.status, 300) << put.body;
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  // The ids found, sorted, or the status when it is not 200.
  static Ids Find(const std::string& query, std::map<std::string, std::string> headers = {}) {
    HttpResult result = HttpClient(server_->port()).Get("/fhir/" + query, std::move(headers));
    if (result.status != 200) return {"status " + std::to_string(result.status)};
    auto bundle = ParseJson(result.body);
    Ids ids;
    if (!bundle.HasMember("entry")) return ids;
    for (const auto& entry : bundle["entry"].GetArray()) {
      if (std::string(entry["search"]["mode"].GetString()) == "match") ids.push_back(entry["resource"]["id"].GetString());
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  static testing::TempDir* dir_;
  static testing::ServerProcess* server_;
};

testing::TempDir* CompositeSearchTest::dir_ = nullptr;
testing::ServerProcess* CompositeSearchTest::server_ = nullptr;

TEST_F(CompositeSearchTest, ACodeWithAQuantityOfTheSameObservation) {
  EXPECT_EQ(Find("Observation?code-value-quantity=http://loinc.org|8480-6$gt100"), (Ids{"high"}));  // 16 kPa is 16 as written
  EXPECT_EQ(Find("Observation?code-value-quantity=8480-6$gt100"), (Ids{"high"}));                    // the code alone
  EXPECT_EQ(Find("Observation?code-value-quantity=http://loinc.org|8480-6$lt100"), (Ids{"kpa", "normal"}));
  EXPECT_EQ(Find("Observation?code-value-quantity=8462-4$gt100"), (Ids{"diastolic"}));  // not the panel's component
  EXPECT_EQ(Find("Observation?code-value-quantity=http://other|8480-6$gt100"), Ids{});
  EXPECT_EQ(Find("Observation?code-value-quantity=9999-9$gt100"), Ids{});
  // In UCUM units, compared in base units: 16 kPa is 120 mm[Hg].
  EXPECT_EQ(Find("Observation?code-value-quantity=http://loinc.org|8480-6$gt100|http://unitsofmeasure.org|mm[Hg]"), (Ids{"high", "kpa"}));
  EXPECT_EQ(Find("Observation?code-value-quantity=8480-6$lt110|http://unitsofmeasure.org|mm[Hg]"), (Ids{"normal"}));
  EXPECT_EQ(Find("Observation?code-value-quantity=8480-6$120||mm[Hg]"), (Ids{"high"}));  // the code as written
  // OR with commas, AND with a repeated parameter.
  EXPECT_EQ(Find("Observation?code-value-quantity=8480-6$gt100,8462-4$gt100"), (Ids{"diastolic", "high"}));
  EXPECT_EQ(Find("Observation?code-value-quantity=8480-6$gt100&code-value-quantity=8480-6$lt125"), (Ids{"high"}));
  EXPECT_EQ(Find("Observation?code-value-quantity=8480-6$gt100&code=8462-4"), Ids{});
}

TEST_F(CompositeSearchTest, ComponentsStayPairedWithTheirOwnCode) {
  // The panel's systolic is 95 and its diastolic 140: 140 is never read as a systolic value.
  EXPECT_EQ(Find("Observation?component-code-value-quantity=http://loinc.org|8480-6$gt100"), Ids{});
  EXPECT_EQ(Find("Observation?component-code-value-quantity=http://loinc.org|8480-6$lt100"), (Ids{"panel"}));
  EXPECT_EQ(Find("Observation?component-code-value-quantity=8462-4$gt135"), (Ids{"panel"}));
  // combo: the Observation's own code and value, or a component's.
  EXPECT_EQ(Find("Observation?combo-code-value-quantity=8462-4$gt125"), (Ids{"diastolic", "panel"}));
  EXPECT_EQ(Find("Observation?combo-code-value-quantity=8480-6$lt100"), (Ids{"kpa", "normal", "panel"}));
}

TEST_F(CompositeSearchTest, ConceptsStringsDatesAndReferences) {
  EXPECT_EQ(Find("Observation?code-value-concept=http://loinc.org|72166-2$http://snomed.info/sct|266919005"), (Ids{"smoker"}));
  EXPECT_EQ(Find("Observation?code-value-concept=72166-2$266919005"), (Ids{"smoker"}));
  EXPECT_EQ(Find("Observation?code-value-concept=72166-2$8517006"), Ids{});
  EXPECT_EQ(Find("Observation?code-value-string=5778-6$a\\$b"), (Ids{"string"}));  // an escaped $ is part of the value
  EXPECT_EQ(Find("Observation?code-value-string=5778-6$positive"), Ids{});           // strings match from the start
  EXPECT_EQ(Find("Observation?code-value-date=21112-8$ge2020-01-01"), (Ids{"dated"}));
  EXPECT_EQ(Find("Observation?code-value-date=21112-8$lt2020"), Ids{});
  EXPECT_EQ(Find("Observation?code-value-date=21112-8$2020-05"), (Ids{"dated"}));
  // R4 names each of relationship's components with the other's definition; the pairs still work.
  EXPECT_EQ(Find("DocumentReference?relationship=replaces$DocumentReference/old"), (Ids{"new"}));
  EXPECT_EQ(Find("DocumentReference?relationship=appends$DocumentReference/old"), Ids{});
}

TEST_F(CompositeSearchTest, CoordinatesOfThreeComponentsKeepStartAndEndTogether) {
  EXPECT_EQ(Find("MolecularSequence?chromosome-variant-coordinate=1$ge120$le121"), (Ids{"seq1"}));
  EXPECT_EQ(Find("MolecularSequence?chromosome-variant-coordinate=1$120$121"), (Ids{"seq1"}));
  EXPECT_EQ(Find("MolecularSequence?chromosome-variant-coordinate=http://terminology.hl7.org/CodeSystem/chromosome-human|1$gt200$lt300"),
            (Ids{"seq1"}));
  // A start of one variant and an end of the other are no variant.
  EXPECT_EQ(Find("MolecularSequence?chromosome-variant-coordinate=1$120$260"), Ids{});
  EXPECT_EQ(Find("MolecularSequence?chromosome-variant-coordinate=1$lt200$gt200"), Ids{});
  EXPECT_EQ(Find("MolecularSequence?chromosome-variant-coordinate=2$120$121"), (Ids{"seq2"}));
  EXPECT_EQ(Find("MolecularSequence?chromosome-variant-coordinate=1$120$121,2$120$121"), (Ids{"seq1", "seq2"}));
  EXPECT_EQ(Find("MolecularSequence?chromosome-variant-coordinate=3$120$121"), Ids{});
  EXPECT_EQ(Find("MolecularSequence?chromosome-window-coordinate=1$le100$ge300"), (Ids{"seq1"}));
  EXPECT_EQ(Find("MolecularSequence?chromosome-window-coordinate=1$gt100$ge300"), Ids{});
  for (const char* query : {"MolecularSequence?chromosome-variant-coordinate=1$gt10", "MolecularSequence?chromosome-variant-coordinate=1$gt10$lt20$5",
                            "MolecularSequence?chromosome-variant-coordinate=1$$lt20", "MolecularSequence?chromosome-window-coordinate=1$gt10$soon"}) {
    HttpResult result = HttpClient(server_->port()).Get(std::string("/fhir/") + query);
    EXPECT_EQ(result.status, 400) << query;
    EXPECT_NE(result.body.find("-coordinate"), std::string::npos) << query << ": " << result.body;
  }
}

TEST_F(CompositeSearchTest, AnUpdateReplacesTheCompositeValues) {
  HttpClient client(server_->port());
  ASSERT_EQ(client.Put("/fhir/Observation/changing", Observation("changing", "8310-5", R"("valueQuantity":)" + MmHg("37"))).status, 201);
  EXPECT_EQ(Find("Observation?code-value-quantity=8310-5$37"), (Ids{"changing"}));
  ASSERT_EQ(client.Put("/fhir/Observation/changing", Observation("changing", "8310-5", R"("valueQuantity":)" + MmHg("39"))).status, 200);
  EXPECT_EQ(Find("Observation?code-value-quantity=8310-5$37"), Ids{});
  EXPECT_EQ(Find("Observation?code-value-quantity=8310-5$39"), (Ids{"changing"}));
  ASSERT_EQ(client.Delete("/fhir/Observation/changing").status, 204);
  EXPECT_EQ(Find("Observation?code-value-quantity=8310-5$39"), Ids{});
}

TEST_F(CompositeSearchTest, MalformedCompositeValuesAre400) {
  for (const char* query : {"Observation?code-value-quantity=8480-6", "Observation?code-value-quantity=8480-6$gt100$1",
                            "Observation?code-value-quantity=$100", "Observation?code-value-quantity=8480-6$",
                            "Observation?code-value-quantity=8480-6$high", "Observation?code-value-quantity:missing=true",
                            "Observation?code-value-quantity:not=8480-6$1", "Observation?code-value-date=1$yesterday",
                            "Observation?_sort=code-value-quantity"}) {
    HttpResult result = HttpClient(server_->port()).Get(std::string("/fhir/") + query);
    EXPECT_EQ(result.status, 400) << query;
    EXPECT_NE(result.body.find("code-value-"), std::string::npos) << query << ": " << result.body;
  }
}

}  // namespace
}  // namespace ck
