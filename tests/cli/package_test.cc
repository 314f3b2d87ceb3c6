// `chartkeeper package load` and the package reader: a FHIR package's code systems, value sets
// and profiles are read in that order and stored, so the server then validates the guide's
// profile claims; what is not a package is refused with a message.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "cli/fhir_package.h"
#include "support/chartkeeper_command.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace ck::cli {
namespace {

const std::filesystem::path kUsCore = std::filesystem::path(CK_SOURCE_DIR) / ".." / "shared" / "testdata" / "us-core";

TEST(FhirPackageTest, ReadsTheConformanceResourcesInDependencyOrder) {
  auto package = ReadFhirPackage(kUsCore / "hl7.fhir.us.core-6.1.0.tgz");
  ASSERT_TRUE(package) << package.error().ToString();
  EXPECT_EQ(package->name, "hl7.fhir.us.core");
  EXPECT_EQ(package->version, "6.1.0");
  std::map<std::string, int> counts;
  std::string last;
  for (const PackageResource& resource : package->resources) {
    ++counts[resource.type];
    EXPECT_FALSE(resource.file.starts_with("package/example/")) << resource.file;
    if (!last.empty() && last != resource.type) {
      EXPECT_EQ(counts[resource.type], 1) << resource.type << " out of order";
    }
    last = resource.type;
  }
  EXPECT_EQ(counts["CodeSystem"], 5);
  EXPECT_EQ(counts["ValueSet"], 36);
  EXPECT_EQ(counts["StructureDefinition"], 59);
  EXPECT_EQ(package->resources.front().type, "CodeSystem");
  EXPECT_EQ(package->resources.back().type, "StructureDefinition");
}

TEST(FhirPackageTest, RefusesWhatIsNotAPackage) {
  testing::TempDir dir;
  EXPECT_EQ(ReadFhirPackage(dir.path() / "missing.tgz").error().code(), StatusCode::kNotFound);
  std::ofstream(dir.path() / "plain.tgz") << R"({"resourceType":"Patient"})";
  EXPECT_EQ(ReadFhirPackage(dir.path() / "plain.tgz").error().code(), StatusCode::kInvalid);
  // A tar.gz without package/package.json.
  ASSERT_EQ(std::system(("cd " + dir.path().string() + " && mkdir -p other && echo '{}' > other/x.json && tar czf nopkg.tgz other").c_str()), 0);
  auto no_manifest = ReadFhirPackage(dir.path() / "nopkg.tgz");
  ASSERT_FALSE(no_manifest);
  EXPECT_NE(no_manifest.error().message().find("package.json"), std::string::npos);
}

TEST(PackageLoadTest, StoresAGuideSoTheServerValidatesItsProfileClaims) {
  testing::TempDir dir;
  auto run = testing::RunChartkeeper("package load", dir.path(), {(kUsCore / "hl7.fhir.us.core-3.1.1.tgz").string()});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("hl7.fhir.us.core 3.1.1: 67 conformance resources stored, 0 refused"), std::string::npos) << run.output;
  auto bad = testing::RunChartkeeper("package load", dir.path(), {(dir.path() / "nowhere.tgz").string()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("cannot open"), std::string::npos) << bad.output;

  testing::ServerProcess server(dir.path());
  testing::HttpClient client(server.port());
  const std::string claim = R"({"resourceType":"Patient","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]})";
  auto refused = client.Post("/fhir/Patient", claim + "}");
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("Patient.identifier"), std::string::npos) << refused.body;
  // The guide's value sets apply: us-core-birthsex binds to its own value set (M, F, UNK).
  const std::string person = R"(,"identifier":[{"system":"http://x","value":"1"}],"name":[{"family":"A"}],"gender":"female",
    "extension":[{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex","valueCode":"X"}]})";
  auto birthsex = client.Post("/fhir/Patient", claim + person);
  EXPECT_EQ(birthsex.status, 422) << birthsex.body;
  EXPECT_NE(birthsex.body.find("birthsex"), std::string::npos) << birthsex.body;
  std::string fine = claim + person;
  fine.replace(fine.find(R"("valueCode":"X")"), 15, R"("valueCode":"F")");
  EXPECT_EQ(client.Post("/fhir/Patient", fine).status, 201);
}

// The `packages` setting: loaded at start, once; a restart with the same package stores nothing
// again, and a package that cannot be read stops the start with its name.
TEST(PackageLoadTest, ConfiguredPackagesLoadAtStartOnce) {
  testing::TempDir dir;
  const std::string us_core = (kUsCore / "hl7.fhir.us.core-3.1.1.tgz").string();
  const std::string profile_history = "/fhir/StructureDefinition/us-core-patient/_history";
  {
    testing::ServerProcess server(dir.path(), {"--packages", us_core});
    testing::HttpClient client(server.port());
    auto history = client.Get(profile_history);
    ASSERT_EQ(history.status, 200) << history.body;
    EXPECT_NE(history.body.find(R"("total":1)"), std::string::npos) << history.body;
    auto refused = client.Post("/fhir/Patient", R"({"resourceType":"Patient","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]}})");
    EXPECT_EQ(refused.status, 422) << refused.body;
  }
  {
    testing::ServerProcess server(dir.path(), {"--packages", us_core});
    testing::HttpClient client(server.port());
    auto history = client.Get(profile_history);
    EXPECT_NE(history.body.find(R"("total":1)"), std::string::npos) << "a restart stored the package again: " << history.body;
  }
  // `package load` always stores; the configured package is then loaded again at the next start
  // only if its content differs, which it does not.
  auto run = testing::RunChartkeeper("package load", dir.path(), {us_core});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  {
    testing::ServerProcess server(dir.path(), {"--packages", us_core});
    testing::HttpClient client(server.port());
    EXPECT_NE(client.Get(profile_history).body.find(R"("total":2)"), std::string::npos);
  }
  // An offline command loads configured packages too, and a missing one is an error naming it.
  auto missing = testing::RunChartkeeper("quality", dir.path(), {"--packages", (dir.path() / "nowhere.tgz").string()});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("config packages: cannot open"), std::string::npos) << missing.output;
  EXPECT_NE(missing.output.find("nowhere.tgz"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace ck::cli
