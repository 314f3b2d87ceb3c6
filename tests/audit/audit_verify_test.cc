// `audit verify` finds every kind of change to the trail and names the first record that is not
// as the server wrote it; an untouched trail verifies, also while records are being added.
#include "audit/audit_verify.h"

#include <gtest/gtest.h>

#include "audit_fixture.h"
#include "store/audit_chain.h"

namespace ck::audit {
namespace {

class AuditVerifyTest : public AuditFixture {
 protected:
  void SetUp() override {
    AuditFixture::SetUp();
    Record(50);  // checkpoints at 10, 20, 30, 40, 50
  }

  VerifyReport Verify(std::int64_t from = 1) {
    auto report = VerifyTrail(*store_, *check_, from);
    EXPECT_TRUE(report) << report.error().ToString();
    return report ? *report : VerifyReport{};
  }
};

TEST_F(AuditVerifyTest, AnUntouchedTrailVerifies) {
  VerifyReport report = Verify();
  EXPECT_TRUE(report.ok()) << report.message;
  EXPECT_EQ(report.checked, 50);
  EXPECT_EQ(report.last, 50);
  EXPECT_EQ(report.checkpoints, 5);
  auto checkpoints = store_->AuditCheckpoints(0);
  ASSERT_TRUE(checkpoints);
  ASSERT_EQ(checkpoints->size(), 5u);
  EXPECT_EQ(checkpoints->front().sequence, 10);
  // From a later record, trusting the one before it.
  VerifyReport tail = Verify(35);
  EXPECT_TRUE(tail.ok()) << tail.message;
  EXPECT_EQ(tail.checked, 16);
}

TEST_F(AuditVerifyTest, AnEditedFieldIsFoundAtItsRecord) {
  Tamper("UPDATE audit_record SET content = replace(content, 'user-17', 'mallory') WHERE seq = 17");
  VerifyReport report = Verify();
  EXPECT_EQ(report.broken, Break::kEdited) << report.message;
  EXPECT_EQ(report.first_bad, 17);
  EXPECT_EQ(report.checked, 16);
}

TEST_F(AuditVerifyTest, AnEditedTimeIsFound) {
  Tamper("UPDATE audit_record SET time = time + 1 WHERE seq = 50");
  VerifyReport report = Verify();
  EXPECT_EQ(report.broken, Break::kEdited) << report.message;
  EXPECT_EQ(report.first_bad, 50);
}

TEST_F(AuditVerifyTest, ADeletedRecordIsFound) {
  Tamper("DELETE FROM audit_record WHERE seq = 23");
  VerifyReport report = Verify();
  EXPECT_EQ(report.broken, Break::kDeleted) << report.message;
  EXPECT_EQ(report.first_bad, 23);
}

TEST_F(AuditVerifyTest, ADeletionHiddenByRenumberingIsFound) {
  Tamper("DELETE FROM audit_record WHERE seq = 23; UPDATE audit_record SET seq = seq - 1 WHERE seq > 23");
  VerifyReport report = Verify();
  EXPECT_EQ(report.broken, Break::kDeleted) << report.message;
  EXPECT_EQ(report.first_bad, 23);
}

TEST_F(AuditVerifyTest, AForgedRecordInsertedInTheMiddleIsFound) {
  Tamper("UPDATE audit_record SET seq = seq + 1000 WHERE seq >= 30; UPDATE audit_record SET seq = seq - 999 WHERE seq > 1000; "
         "INSERT INTO audit_record (seq, time, content, hash) SELECT 30, time, replace(content, 'user-30', 'nobody'), hash FROM "
         "audit_record WHERE seq = 31");
  VerifyReport report = Verify();
  EXPECT_EQ(report.broken, Break::kInserted) << report.message;
  EXPECT_EQ(report.first_bad, 30);
}

TEST_F(AuditVerifyTest, AForgedRecordWithACorrectHashAfterTheHeadIsFound) {
  auto last = store_->ReadAudit(50, 1);
  ASSERT_TRUE(last && last->size() == 1);
  const std::string content = R"({"type":"rest","subtype":"read","action":"R","outcome":"0"})";
  const Millis time = last->front().time + 5;
  const std::string hash = store::AuditChainHash(last->front().hash, 51, time, content);
  Tamper("INSERT INTO audit_record (seq, time, content, hash) VALUES (51, " + std::to_string(time) + ", '" + content + "', '" + hash + "')");
  VerifyReport report = Verify();
  EXPECT_EQ(report.broken, Break::kInserted) << report.message;
  EXPECT_EQ(report.first_bad, 51);
}

TEST_F(AuditVerifyTest, TwoSwappedRecordsAreFound) {
  Tamper("UPDATE audit_record SET seq = -12 WHERE seq = 12; UPDATE audit_record SET seq = 12 WHERE seq = 13; "
         "UPDATE audit_record SET seq = 13 WHERE seq = -12");
  VerifyReport report = Verify();
  EXPECT_EQ(report.broken, Break::kReordered) << report.message;
  EXPECT_EQ(report.first_bad, 12);
}

TEST_F(AuditVerifyTest, ARecordMovedFarIsFound) {
  Tamper("UPDATE audit_record SET seq = -12 WHERE seq = 12; UPDATE audit_record SET seq = 12 WHERE seq = 40; "
         "UPDATE audit_record SET seq = 40 WHERE seq = -12");
  VerifyReport report = Verify();
  EXPECT_EQ(report.broken, Break::kReordered) << report.message;
  EXPECT_EQ(report.first_bad, 12);
}

TEST_F(AuditVerifyTest, TheLastTenDroppedAreFound) {
  Tamper("DELETE FROM audit_record WHERE seq > 40");
  VerifyReport report = Verify();
  EXPECT_EQ(report.broken, Break::kTruncated) << report.message;
  EXPECT_EQ(report.first_bad, 41);
}

TEST_F(AuditVerifyTest, AChainRecomputedAfterAnEditIsCaughtByTheNextCheckpoint) {
  // Edit record 17, then recompute every hash from it on, as someone who read the design would.
  Tamper("UPDATE audit_record SET content = replace(content, 'user-17', 'mallory') WHERE seq = 17");
  auto rows = store_->ReadAudit(1, 100);
  ASSERT_TRUE(rows);
  std::string sql;
  std::string previous(store::kAuditGenesisHash);
  for (const store::AuditRecord& row : *rows) {
    const std::string hash = store::AuditChainHash(previous, row.sequence, row.time, row.content);
    if (hash != row.hash) sql += "UPDATE audit_record SET hash = '" + hash + "' WHERE seq = " + std::to_string(row.sequence) + ";";
    previous = hash;
  }
  Tamper(sql);
  VerifyReport report = Verify();
  EXPECT_EQ(report.broken, Break::kRewritten) << report.message;
  EXPECT_EQ(report.first_bad, 11);  // after the last checkpoint that still holds
}

TEST_F(AuditVerifyTest, ASealNotSignedByTheAuditKeyIsFound) {
  Tamper("UPDATE audit_checkpoint SET hash = (SELECT hash FROM audit_record WHERE seq = 19) WHERE seq = 20");
  VerifyReport report = Verify();
  EXPECT_EQ(report.broken, Break::kForgedSeal) << report.message;
  EXPECT_EQ(report.first_bad, 20);
  // Another key verifies nothing.
  auto other = AuditKey::LoadOrCreate(dir_.path() / "other-key.pem", data());
  ASSERT_TRUE(other);
  auto other_check = AuditKeyCheck::FromPem((*other)->PublicKeyPem());
  ASSERT_TRUE(other_check);
  auto report_with_other = VerifyTrail(*store_, **other_check, 1);
  ASSERT_TRUE(report_with_other);
  EXPECT_EQ(report_with_other->broken, Break::kForgedSeal);
}

TEST_F(AuditVerifyTest, ATrailThatGrewStillVerifies) {
  Open(/*read_only=*/false);
  Record(3);  // the head moves on to 53
  VerifyReport report = Verify();
  EXPECT_TRUE(report.ok()) << report.message;
  EXPECT_EQ(report.last, 53);
}

}  // namespace
}  // namespace ck::audit
