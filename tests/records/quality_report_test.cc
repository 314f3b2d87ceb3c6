// The data quality report over a real SQLite store: data stored before a rule existed (here, a
// profile stored after the resources that claim it) is reported per rule, with warnings,
// references to resources the server does not hold, and the worst offenders; the JSON form says
// the same; scans go page by page past the page size.
#include "records/quality_report.h"

#include <gtest/gtest.h>

#include "records_fixture.h"
#include "support/json.h"

namespace ck::records {
namespace {

class QualityReportTest : public RecordsTest {
 protected:
  void Put(const std::string& id, const std::string& body) {
    auto resource = service_->Parse(body);
    ASSERT_TRUE(resource) << resource.error().ToString();
    resource->SetId(id);
    auto stored = service_->UpdateResource(context_, std::move(*resource), std::nullopt);
    ASSERT_TRUE(stored) << stored.error().ToString();
  }
};

TEST_F(QualityReportTest, ReportsRulesUnresolvedReferencesAndWorstOffenders) {
  const std::string claim = R"({"resourceType":"Patient","meta":{"profile":["http://example.org/StructureDefinition/named"]})";
  // 600 patients (more than a page), two of them without a name, one pointing at a missing organization.
  for (int i = 0; i < 600; ++i) {
    std::string extra = i % 300 == 7 ? "" : R"(,"name":[{"family":"P"}])";
    if (i == 42) extra += R"(,"managingOrganization":{"reference":"Organization/gone"})";
    Put("p" + std::to_string(1000 + i), claim + extra + "}");
  }
  Put("here", R"({"resourceType":"Organization","name":"Here"})");
  Put("fine", R"({"resourceType":"Patient","managingOrganization":{"reference":"Organization/here"}})");
  // The profile arrives after the data: now two patients break it.
  Put("named", R"({"resourceType":"StructureDefinition","url":"http://example.org/StructureDefinition/named",
    "name":"Named","status":"active","kind":"resource","abstract":false,"type":"Patient",
    "baseDefinition":"http://hl7.org/fhir/StructureDefinition/Patient","derivation":"constraint",
    "differential":{"element":[{"id":"Patient.name","path":"Patient.name","min":1}]}})");

  QualityScan scan(*service_, *store_);
  std::vector<std::size_t> progress;
  auto report = scan.Run({"Patient", "Organization"}, [&](const std::string&, std::size_t checked) {
    progress.push_back(checked);
    return true;
  });
  ASSERT_TRUE(report) << report.error().ToString();
  ASSERT_EQ(report->types.size(), 2u);
  const TypeQuality& patients = report->types[0];
  EXPECT_EQ(patients.type, "Patient");
  EXPECT_EQ(patients.checked, 601u);
  EXPECT_EQ(patients.with_errors, 2u);
  EXPECT_EQ(patients.rules.at("profile http://example.org/StructureDefinition/named").errors, 2u);
  EXPECT_EQ(patients.rules.at("constraint dom-6").warnings, 601u);  // no narratives
  EXPECT_EQ(patients.unresolved_references, 1u);
  EXPECT_EQ(patients.unresolved_examples, std::vector<std::string>{"Patient/p1042 -> Organization/gone"});
  ASSERT_EQ(patients.worst.size(), 2u);
  EXPECT_EQ(patients.worst[0].id, "p1007");
  EXPECT_EQ(patients.worst[1].id, "p1307");
  EXPECT_GE(progress.size(), 2u);  // at least two pages of patients
  EXPECT_EQ(report->types[1].type, "Organization");
  EXPECT_EQ(report->types[1].with_errors, 0u);

  auto json = testing::ParseJson(report->Json());
  ASSERT_TRUE(json.IsObject());
  EXPECT_EQ(json["types"][0]["withErrors"].GetInt(), 2);
  EXPECT_EQ(json["types"][0]["unresolvedReferences"].GetInt(), 1);
  EXPECT_NE(report->Table().find("2 with errors"), std::string::npos) << report->Table();

  EXPECT_EQ(scan.Run({"Robot"}).error().code(), StatusCode::kNotFound);
}

// A server shutting down stops a report in flight after the page it is on.
TEST_F(QualityReportTest, StopsWhenProgressSaysSo) {
  for (int i = 0; i < 600; ++i) Put("p" + std::to_string(i), R"({"resourceType":"Patient"})");
  int pages = 0;
  auto stopped = QualityScan(*service_, *store_).Run({"Patient"}, [&](const std::string&, std::size_t) { return ++pages < 1; });
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(pages, 1);
}

}  // namespace
}  // namespace ck::records
