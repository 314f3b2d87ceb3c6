// `chartkeeper audit ...` as an operator runs it: verify (exit 0 intact, 3 broken with the first
// bad record), export checked by the third-party script, disclosures as CSV; the account and
// import commands leave their records; the key is required and must be the trail's.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "support/chartkeeper_command.h"
#include "support/data_folder.h"
#include "support/temp_dir.h"

namespace ck::cli {
namespace {

using testing::CommandRun;

class AuditCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.path() / "patients.ndjson") << R"({"resourceType":"Patient","id":"p1"})" "\n"
                                                   << R"({"resourceType":"Patient","id":"p2"})" "\n";
    CommandRun imported = Run("import", {(dir_.path() / "patients.ndjson").string()});
    ASSERT_EQ(imported.exit_code, 0) << imported.output;
    CommandRun added = Run("user add", {"alice", "--role", "clinician"});
    ASSERT_EQ(added.exit_code, 0) << added.output;
  }
  CommandRun Run(const std::string& subcommand, std::vector<std::string> args) {
    args.insert(args.end(), {"--log-level", "warn"});
    return testing::RunChartkeeper(subcommand, data(), args);
  }
  std::filesystem::path data() const { return dir_.path() / "var"; }
  void Sql(const std::string& sql) {
    testing::RawDatabase database(data());
    ASSERT_EQ(sqlite3_exec(database.get(), sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sql;
  }

  testing::TempDir dir_;
};

TEST_F(AuditCommandTest, VerifySaysIntactOrNamesTheFirstBadRecord) {
  CommandRun intact = Run("audit verify", {});
  EXPECT_EQ(intact.exit_code, 0) << intact.output;
  EXPECT_NE(intact.output.find("audit trail intact: records 1 to 3"), std::string::npos) << intact.output;  // two writes, the user
  Sql("UPDATE audit_record SET content = replace(content, '\"outcome\":\"0\"', '\"outcome\":\"4\"') WHERE seq = 2");
  CommandRun broken = Run("audit verify", {});
  EXPECT_EQ(broken.exit_code, 3) << broken.output;
  EXPECT_NE(broken.output.find("BROKEN at record 2 (edited)"), std::string::npos) << broken.output;
}

TEST_F(AuditCommandTest, TheCommandsLeaveTheirRecords) {
  CommandRun csv = Run("audit disclosures", {"--patient", "p1"});
  ASSERT_EQ(csv.exit_code, 0) << csv.output;
  EXPECT_NE(csv.output.find(",update,U,os:"), std::string::npos) << csv.output;  // the import's write, by the OS user
  EXPECT_NE(csv.output.find("Patient/p1/_history/1"), std::string::npos) << csv.output;
  const auto file = dir_.path() / "trail.jsonl";
  CommandRun exported = Run("audit export", {"--since", "2000-01-01", "--output", file.string()});
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  CommandRun checked = testing::RunShell("python3 " + std::string(CK_SOURCE_DIR) + "/tools/verify_audit_export.py " + file.string());
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  // user add, then the disclosures report (its own record, after it was read).
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find(R"(\"subtype\":\"user-add\")"), std::string::npos);
  EXPECT_NE(text.find(R"(\"detail\":\"$disclosures\")"), std::string::npos);
}

TEST_F(AuditCommandTest, TheTrailNeedsItsOwnKey) {
  const auto key = dir_.path() / "var-audit-key.pem";
  ASSERT_TRUE(std::filesystem::exists(key));
  std::filesystem::rename(key, dir_.path() / "saved.pem");
  CommandRun missing = Run("user list", {});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("audit key"), std::string::npos) << missing.output;
  EXPECT_FALSE(std::filesystem::exists(key)) << "no new key is made for a trail signed by another";
  auto other = testing::RunShell("openssl genpkey -algorithm ed25519 -out " + key.string() + " && chmod 600 " + key.string());
  ASSERT_EQ(other.exit_code, 0) << other.output;
  CommandRun wrong = Run("user list", {});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.output.find("not the key that signed the audit trail"), std::string::npos) << wrong.output;
  std::filesystem::rename(dir_.path() / "saved.pem", key);
  EXPECT_EQ(Run("user list", {}).exit_code, 0);
}

}  // namespace
}  // namespace ck::cli
