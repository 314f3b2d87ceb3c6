// `chartkeeper import` as a user runs it: the real binary on temp files, then the data checked
// through the records service.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "cli/server_config.h"
#include "records/record_service.h"
#include "store/sqlite/sqlite_store.h"
#include "support/chartkeeper_command.h"
#include "support/data_folder.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace ck::cli {
namespace {

using testing::CommandRun;

CommandRun RunImportCommand(const std::filesystem::path& data, const std::vector<std::string>& args) {
  return testing::RunChartkeeper("import", data, args);
}

class ImportTest : public ::testing::Test {
 protected:
  std::filesystem::path Write(const std::string& name, const std::string& text) {
    auto path = dir_.path() / name;
    std::ofstream(path) << text;
    return path;
  }
  // Reads a resource back through the same core the server uses.
  Result<store::StoredVersion> ReadBack(const std::string& type, const std::string& id) {
    auto store = store::sqlite::OpenSqliteStore({.data_dir = dir_.path() / "var", .clock = &clock_, .data_keys = testing::DataKeyOf(dir_.path() / "var")});
    if (!store) return Err(store.error());
    records::RecordService service(fhir::Definitions::R4(), **store);
    return service.Read({"test", "tester", "1"}, type, id);
  }

  testing::TempDir dir_;
  SystemClock clock_;
};

TEST_F(ImportTest, LoadsNdjsonAndReportsBadLinesByNumber) {
  auto file = Write("patients.ndjson",
                    "{\"resourceType\":\"Patient\",\"id\":\"p1\"}\n"
                    "\n"
                    "{\"resourceType\":\"Patient\",\"id\":\"p2\",\"birthDate\":\"1970-13-01\"}\n"
                    "{not json\n"
                    "{\"resourceType\":\"Patient\"}\n"
                    "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\",\"code\":{\"text\":\"x\"}}\n");
  CommandRun run = RunImportCommand(dir_.path() / "var", {file.string()});
  EXPECT_EQ(run.exit_code, 3) << run.output;
  EXPECT_NE(run.output.find("rejected patients.ndjson line 3: not a valid date"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("rejected patients.ndjson line 4: invalid JSON"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("3 loaded, 2 rejected"), std::string::npos) << run.output;
  EXPECT_TRUE(ReadBack("Patient", "p1"));
  EXPECT_TRUE(ReadBack("Observation", "o1"));
  EXPECT_EQ(ReadBack("Patient", "p2").error().code(), StatusCode::kNotFound);
}

TEST_F(ImportTest, FailFastStopsAtTheFirstRejection) {
  std::string lines = "{\"resourceType\":\"Patient\",\"gender\":1}\n";
  for (int i = 0; i < 50; ++i) lines += "{\"resourceType\":\"Patient\",\"id\":\"s" + std::to_string(i) + "\"}\n";
  CommandRun run = RunImportCommand(dir_.path() / "var", {Write("strict.ndjson", lines).string(), "--fail-fast"});
  EXPECT_EQ(run.exit_code, 3) << run.output;
  EXPECT_NE(run.output.find("stopped at the first rejection"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("0 loaded, 1 rejected"), std::string::npos) << run.output;
}

TEST_F(ImportTest, LoadsBundleEntriesAndRewritesReferencesBetweenThem) {
  auto file = Write("bundle.json", R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:7d3f0a5e-0000-4000-8000-000000000001","resource":{"resourceType":"Organization","identifier":[{"system":"http://npi","value":"42"}],"name":"Clinic"},"request":{"method":"POST","url":"Organization"}},
    {"fullUrl":"urn:uuid:7d3f0a5e-0000-4000-8000-000000000002","resource":{"resourceType":"Patient","managingOrganization":{"reference":"urn:uuid:7d3f0a5e-0000-4000-8000-000000000001"},"generalPractitioner":[{"reference":"Organization?identifier=http://npi|42"}]},"request":{"method":"POST","url":"Patient"}},
    {"resource":{"resourceType":"Patient","id":"by-put"},"request":{"method":"PUT","url":"Patient/by-put"}},
    {"resource":{"resourceType":"Patient","foo":true},"request":{"method":"POST","url":"Patient"}},
    {"resource":{"resourceType":"Parameters","id":"a-patch","parameter":[{"name":"operation"}]},"request":{"method":"PATCH","url":"Patient/by-put"}}
  ]})");
  CommandRun run = RunImportCommand(dir_.path() / "var", {file.string()});
  EXPECT_EQ(run.exit_code, 3) << run.output;
  EXPECT_NE(run.output.find("rejected bundle.json entry 3: unknown element 'foo'"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("rejected bundle.json entry 4: an import stores resources"), std::string::npos) << run.output;
  EXPECT_EQ(ReadBack("Parameters", "a-patch").error().code(), StatusCode::kNotFound);  // the patch is not stored as a resource
  auto patient = ReadBack("Patient", "7d3f0a5e-0000-4000-8000-000000000002");
  ASSERT_TRUE(patient) << run.output;
  EXPECT_NE(patient->body.find(R"("managingOrganization":{"reference":"Organization/7d3f0a5e-0000-4000-8000-000000000001"})"),
            std::string::npos)
      << patient->body;
  EXPECT_NE(patient->body.find(R"("generalPractitioner":[{"reference":"Organization/7d3f0a5e-0000-4000-8000-000000000001"}])"),
            std::string::npos)
      << patient->body;
  EXPECT_TRUE(ReadBack("Patient", "by-put"));
}

// --as-transactions: a transaction Bundle is stored whole or not at all; a conditional reference
// the run cannot answer refuses its Bundle instead of being stored as written.
TEST_F(ImportTest, AsTransactionsStoresEachTransactionBundleWholeOrNotAtAll) {
  auto good = Write("good.json", R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:7d3f0a5e-0000-4000-8000-000000000011","resource":{"resourceType":"Organization","identifier":[{"system":"http://npi","value":"7"}],"name":"Clinic"},"request":{"method":"POST","url":"Organization"}},
    {"fullUrl":"urn:uuid:7d3f0a5e-0000-4000-8000-000000000012","resource":{"resourceType":"Patient","managingOrganization":{"reference":"urn:uuid:7d3f0a5e-0000-4000-8000-000000000011"}},"request":{"method":"POST","url":"Patient"}}
  ]})");
  auto bad = Write("bad.json", R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","id":"kept-out"},"request":{"method":"PUT","url":"Patient/kept-out"}},
    {"resource":{"resourceType":"Patient","foo":true},"request":{"method":"POST","url":"Patient"}}
  ]})");
  auto dangling = Write("dangling.json", R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","id":"also-out","generalPractitioner":[{"reference":"Organization?identifier=http://npi|none"}]},"request":{"method":"PUT","url":"Patient/also-out"}}
  ]})");
  CommandRun run = RunImportCommand(dir_.path() / "var", {"--as-transactions", good.string(), bad.string(), dangling.string()});
  EXPECT_EQ(run.exit_code, 3) << run.output;
  EXPECT_NE(run.output.find("2 loaded, 2 rejected"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("rejected bad.json entry 1"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("rejected dangling.json entry 0"), std::string::npos) << run.output;
  auto patient = ReadBack("Patient", "7d3f0a5e-0000-4000-8000-000000000012");
  ASSERT_TRUE(patient) << run.output;
  EXPECT_NE(patient->body.find(R"("reference":"Organization/7d3f0a5e-0000-4000-8000-000000000011")"), std::string::npos) << patient->body;
  EXPECT_EQ(ReadBack("Patient", "kept-out").error().code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadBack("Patient", "also-out").error().code(), StatusCode::kNotFound);
}

// import_validation: strict rejects a resource that breaks a rule, lenient loads it with its
// errors recorded (and says how many), structure loads it unchecked; a body that is not
// well-formed FHIR JSON is rejected under every policy.
TEST_F(ImportTest, TheValidationPolicyDecidesWhatAResourceBreakingARuleGets) {
  auto file = Write("legacy.ndjson",
                    "{\"resourceType\":\"Patient\",\"id\":\"robot\",\"gender\":\"robot\"}\n"
                    "{\"resourceType\":\"Patient\",\"id\":\"fine\",\"gender\":\"female\"}\n"
                    "{\"resourceType\":\"Patient\",\"id\":\"odd\",\"colour\":\"blue\"}\n");
  CommandRun strict = RunImportCommand(dir_.path() / "var", {file.string()});
  EXPECT_EQ(strict.exit_code, 3) << strict.output;
  EXPECT_NE(strict.output.find("1 loaded, 2 rejected"), std::string::npos) << strict.output;
  EXPECT_EQ(ReadBack("Patient", "robot").error().code(), StatusCode::kNotFound);

  CommandRun lenient = RunImportCommand(dir_.path() / "var", {"--import-validation", "lenient", file.string()});
  EXPECT_EQ(lenient.exit_code, 3) << lenient.output;  // the unknown element is still rejected
  EXPECT_NE(lenient.output.find("2 loaded, 1 rejected"), std::string::npos) << lenient.output;
  EXPECT_NE(lenient.output.find("rejected legacy.ndjson line 3"), std::string::npos) << lenient.output;
  EXPECT_NE(lenient.output.find("1 of the loaded resources break validation rules"), std::string::npos) << lenient.output;
  auto robot = ReadBack("Patient", "robot");
  ASSERT_TRUE(robot) << robot.error().ToString();
  EXPECT_NE(robot->issues.find("robot"), std::string::npos) << robot->issues;
  EXPECT_EQ(ReadBack("Patient", "fine")->issues, "");

  auto other = Write("other.ndjson", "{\"resourceType\":\"Patient\",\"id\":\"robot2\",\"gender\":\"robot\"}\n");
  CommandRun structure = RunImportCommand(dir_.path() / "var", {"--import-validation", "structure", other.string()});
  EXPECT_EQ(structure.exit_code, 0) << structure.output;
  EXPECT_EQ(structure.output.find("break validation rules"), std::string::npos) << structure.output;
  EXPECT_EQ(ReadBack("Patient", "robot2")->issues, "");

  CommandRun unknown = RunImportCommand(dir_.path() / "var", {"--import-validation", "sloppy", other.string()});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.output.find("expected one of strict, lenient, structure"), std::string::npos) << unknown.output;
}

// The issue's own example: official R4 examples whose empty narratives break txt-2 come in
// under the lenient policy, nothing lost, each flaw recorded.
TEST_F(ImportTest, LenientImportKeepsTheOfficialExamplesThatBreakTxt2) {
  const auto examples = std::filesystem::path(CK_SOURCE_DIR) / ".." / "shared" / "testdata" / "r4-examples";
  std::vector<std::string> args = {"--import-validation", "lenient"};
  for (const char* name : {"activitydefinition-servicerequest-example.json", "eventdefinition-example.json"}) {
    args.push_back((examples / name).string());
  }
  CommandRun strict = RunImportCommand(dir_.path() / "strict", {args[2], args[3]});
  EXPECT_NE(strict.output.find("0 loaded, 2 rejected"), std::string::npos) << strict.output;
  CommandRun lenient = RunImportCommand(dir_.path() / "var", args);
  EXPECT_EQ(lenient.exit_code, 0) << lenient.output;
  EXPECT_NE(lenient.output.find("2 loaded, 0 rejected"), std::string::npos) << lenient.output;
  EXPECT_NE(lenient.output.find("2 of the loaded resources break validation rules"), std::string::npos) << lenient.output;
  auto stored = ReadBack("EventDefinition", "example");
  ASSERT_TRUE(stored) << stored.error().ToString();
  EXPECT_NE(stored->issues.find("txt-2"), std::string::npos) << stored->issues;
}

TEST_F(ImportTest, ReadsBzip2AndSingleResources) {
  auto plain = Write("one.json", R"({"resourceType":"Patient","id":"zipped"})");
  ASSERT_EQ(std::system(("bzip2 -k " + plain.string()).c_str()), 0);
  CommandRun run = RunImportCommand(dir_.path() / "var", {plain.string() + ".bz2"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(ReadBack("Patient", "zipped"));
}

TEST_F(ImportTest, AMissingOrCorruptFileIsAnError) {
  CommandRun missing = RunImportCommand(dir_.path() / "var", {(dir_.path() / "nope.ndjson").string()});
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("cannot read"), std::string::npos) << missing.output;
  CommandRun corrupt = RunImportCommand(dir_.path() / "var", {Write("bad.json.bz2", "not bzip2 at all").string()});
  EXPECT_EQ(corrupt.exit_code, 1) << corrupt.output;
  CommandRun usage = RunImportCommand(dir_.path() / "var", {});
  EXPECT_NE(usage.exit_code, 0);
}

TEST_F(ImportTest, AnUnknownSearchTimeZoneStopsTheImport) {
  CommandRun run = RunImportCommand(dir_.path() / "var", {"--search-time-zone", "Mars/Olympus_Mons",
                                                          Write("one.ndjson", "{\"resourceType\":\"Patient\"}\n").string()});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("search_time_zone: 'Mars/Olympus_Mons' is not an IANA time zone"), std::string::npos) << run.output;
  CommandRun berlin = RunImportCommand(dir_.path() / "var", {"--search-time-zone", "Europe/Berlin",
                                                             Write("two.ndjson", "{\"resourceType\":\"Patient\"}\n").string()});
  EXPECT_EQ(berlin.exit_code, 0) << berlin.output;
}

TEST_F(ImportTest, RefusesADataFolderARunningServerHolds) {
  testing::ServerProcess server(dir_.path() / "var");
  CommandRun run = RunImportCommand(dir_.path() / "var", {Write("one.ndjson", "{\"resourceType\":\"Patient\"}\n").string()});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("another Chartkeeper process"), std::string::npos) << run.output;
}

TEST(ServerConfigTest, ParsesListenAddresses) {
  auto v4 = ParseListenAddress("127.0.0.1:8080");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  auto v6 = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  for (const char* bad : {"8080", ":8080", "host:", "host:99999", "host:80x"}) {
    EXPECT_FALSE(ParseListenAddress(bad)) << bad;
  }
}

// Read threads: as configured, else one per core and never fewer than two.
TEST(ServerConfigTest, ReadThreadsAreOnePerCoreUnlessConfigured) {
  Config config;
  EXPECT_EQ(ReadThreads(config), std::max(2u, std::thread::hardware_concurrency()));
  config.read_threads = 5;
  EXPECT_EQ(ReadThreads(config), 5u);
}

}  // namespace
}  // namespace ck::cli
