// An export carries what a third party needs: tools/verify_audit_export.py checks it with only
// python3 and openssl, finds a changed record, and starts from the signed checkpoint before the
// time asked for.
#include "audit/audit_export.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "audit_fixture.h"
#include "support/chartkeeper_command.h"

namespace ck::audit {
namespace {

class AuditExportTest : public AuditFixture {
 protected:
  std::string Export(Millis since) {
    std::ostringstream out;
    auto summary = ExportTrail(*store_, key_->PublicKeyPem(), since, out);
    EXPECT_TRUE(summary) << summary.error().ToString();
    return out.str();
  }
  ck::testing::CommandRun Check(const std::string& text) {
    const auto file = dir_.path() / "export.jsonl";
    std::ofstream(file) << text;
    return ck::testing::RunShell("python3 " + std::string(CK_SOURCE_DIR) + "/tools/verify_audit_export.py " + file.string());
  }
};

TEST_F(AuditExportTest, AThirdPartyCanCheckItWithTheDocumentedProcedure) {
  const Millis start = clock_.Now();
  Record(25);
  auto whole = Check(Export(start));
  EXPECT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_NE(whole.output.find("intact: 25 records, from 1 to 25"), std::string::npos) << whole.output;
  // Since record 15's time: from the checkpoint at 10, so record 11 is chained to a signed hash.
  auto part = Check(Export(start + 14 * 1000));
  EXPECT_EQ(part.exit_code, 0) << part.output;
  EXPECT_NE(part.output.find("intact: 15 records, from 11 to 25"), std::string::npos) << part.output;
}

TEST_F(AuditExportTest, AChangedRecordOrSignatureFailsTheCheck) {
  const Millis start = clock_.Now();
  Record(12);
  std::string text = Export(start);
  std::string edited = text;
  edited.replace(edited.find("user-7"), 6, "user-9");
  auto changed = Check(edited);
  EXPECT_EQ(changed.exit_code, 1);
  EXPECT_NE(changed.output.find("record 7 does not match its hash"), std::string::npos) << changed.output;
  std::string forged = text;
  const std::size_t signature = forged.rfind(R"("signature":")") + 13;
  forged[signature] = forged[signature] == 'A' ? 'B' : 'A';
  auto unsigned_head = Check(forged);
  EXPECT_EQ(unsigned_head.exit_code, 1);
  EXPECT_NE(unsigned_head.output.find("is not signed by the audit key"), std::string::npos) << unsigned_head.output;
}

}  // namespace
}  // namespace ck::audit
