// The accounting of disclosures over a scripted history of accesses: exactly the patient's rows,
// in the period, oldest first, with the exclusions asked for; as CSV and as a Bundle.
#include "audit/disclosures.h"

#include <gtest/gtest.h>

#include "audit/audit_entry.h"
#include "audit_fixture.h"

namespace ck::audit {
namespace {

class DisclosuresTest : public AuditFixture {
 protected:
  void Access(const std::string& user, const std::string& purpose, const std::vector<std::string>& patients, std::string subtype = "read") {
    AuditEntry entry;
    entry.subtype = std::move(subtype);
    entry.user = user;
    entry.roles = {purpose == "TREAT" ? "clinician" : "coder"};
    entry.purpose = purpose;
    entry.address = "192.0.2.1";
    for (const std::string& patient : patients) entry.entities.push_back("Patient/" + patient);
    entry.patients = patients;
    ASSERT_TRUE(trail_->RecordNow(entry).ok());
    clock_.Advance(24LL * 3600 * 1000);  // one a day
  }
};

TEST_F(DisclosuresTest, ListsThePatientsAccessesInThePeriodOldestFirst) {
  const Millis day0 = clock_.Now();
  Access("alice", "TREAT", {"p1"});         // day 0
  Access("bob", "HPAYMT", {"p2"});          // day 1: another patient
  Access("carol", "HPAYMT", {"p1", "p2"});  // day 2: a search that returned both
  Access("dave", "TREAT", {"p1"}, "vread");  // day 3
  Access("erin", "HOPERAT", {"p1"});        // day 4: after the period
  const Millis day = 24LL * 3600 * 1000;
  auto rows = DisclosureRecords(*store_, {"p1", {day0, day0 + 4 * day}, {}});
  ASSERT_TRUE(rows) << rows.error().ToString();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].sequence, 1);
  EXPECT_EQ((*rows)[1].sequence, 3);
  EXPECT_EQ((*rows)[2].sequence, 4);

  auto csv = DisclosuresCsv(*rows);
  ASSERT_TRUE(csv);
  EXPECT_EQ(*csv,
            "sequence,time,outcome,interaction,action,user,client,roles,address,purpose,reason,records,query\r\n"
            "1," + FormatInstant(day0) + ",0,read,R,alice,,clinician,192.0.2.1,TREAT,,Patient/p1,\r\n"
            "3," + FormatInstant(day0 + 2 * day) + ",0,read,R,carol,,coder,192.0.2.1,HPAYMT,,Patient/p1 Patient/p2,\r\n"
            "4," + FormatInstant(day0 + 3 * day) + ",0,vread,R,dave,,clinician,192.0.2.1,TREAT,,Patient/p1,\r\n");
}

TEST_F(DisclosuresTest, LeavesOutTheExcludedPurposes) {
  const Millis day0 = clock_.Now();
  Access("alice", "TREAT", {"p1"});
  Access("carol", "HPAYMT", {"p1"});
  Access("erin", "HOPERAT", {"p1"});
  auto rows = DisclosureRecords(*store_, {"p1", {day0, day0 + 10LL * 24 * 3600 * 1000}, {"TREAT", "HOPERAT"}});
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().sequence, 2);
}

TEST_F(DisclosuresTest, IsABundleOfAuditEventsToo) {
  const Millis day0 = clock_.Now();
  Access("alice", "TREAT", {"p1"});
  auto rows = DisclosureRecords(*store_, {"p1", {day0, day0 + 1000}, {}});
  ASSERT_TRUE(rows);
  auto bundle = DisclosuresBundle(*rows, "http://example.org/fhir");
  ASSERT_TRUE(bundle);
  EXPECT_NE(bundle->find(R"("type":"collection")"), std::string::npos);
  EXPECT_NE(bundle->find(R"("fullUrl":"http://example.org/fhir/AuditEvent/1")"), std::string::npos);
  auto empty = DisclosuresBundle({}, "http://example.org/fhir");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->find("entry"), std::string::npos);  // FHIR JSON has no empty arrays
}

TEST_F(DisclosuresTest, RefusesAPeriodLongerThanSixYearsOrBackwards) {
  const Millis now = clock_.Now();
  EXPECT_EQ(DisclosureRecords(*store_, {"p1", {now - kMaxDisclosurePeriod - 1, now}, {}}).error().code(), StatusCode::kInvalid);
  EXPECT_EQ(DisclosureRecords(*store_, {"p1", {now, now - 1}, {}}).error().code(), StatusCode::kInvalid);
  EXPECT_EQ(DisclosureRecords(*store_, {"", {now - 1, now}, {}}).error().code(), StatusCode::kInvalid);
}

}  // namespace
}  // namespace ck::audit
