// An audit record's content: written once, read back the same, rendered as an AuditEvent, even
// when what the caller sent was not valid UTF-8.
#include "audit/audit_entry.h"

#include <gtest/gtest.h>

namespace ck::audit {
namespace {

TEST(AuditEntryTest, ContentReadsBackAsWritten) {
  AuditEntry entry;
  entry.subtype = "search-type";
  entry.action = 'E';
  entry.outcome = 4;
  entry.detail = "refused";
  entry.user = "alice";
  entry.roles = {"clinician", "coder"};
  entry.entities = {"Observation/1/_history/2"};
  entry.query = "Observation?code=1234-5";
  entry.patients = {"p1", "p2"};
  const std::string content = AuditContent(entry);
  EXPECT_EQ(content, R"({"type":"rest","subtype":"search-type","action":"E","outcome":"4","detail":"refused","user":"alice",)"
                     R"("roles":["clinician","coder"],"entity":["Observation/1/_history/2"],"query":"Observation?code=1234-5",)"
                     R"("patient":["p1","p2"]})");
  auto back = ParseAuditContent(content);
  ASSERT_TRUE(back);
  EXPECT_EQ(AuditContent(*back), content);
  EXPECT_EQ(back->Links().entities, std::vector<std::string>{"Observation/1"});
}

TEST(AuditEntryTest, BytesThatAreNotUtf8AreKeptReadable) {
  AuditEntry entry;
  entry.type = "login";
  entry.subtype = "login";
  entry.user = std::string("mal\xff\xfeory");
  entry.query = std::string("/fhir/\xc3");
  auto back = ParseAuditContent(AuditContent(entry));
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->user, "mal\xef\xbf\xbd\xef\xbf\xbdory");
  EXPECT_TRUE(AuditEventJson({1, 0, AuditContent(entry), ""}));
  EXPECT_EQ(ParseAuditContent("not json").error().code(), StatusCode::kCorrupt);
}

TEST(AuditEntryTest, PurposeAndOutcomeFollowRolesAndStatus) {
  EXPECT_EQ(PurposeOfUse({"clinician"}), "TREAT");
  EXPECT_EQ(PurposeOfUse({"coder", "clinician"}), "TREAT");
  EXPECT_EQ(PurposeOfUse({"auditor"}), "HOPERAT");
  EXPECT_EQ(PurposeOfUse({"integration"}), "");
  EXPECT_EQ(OutcomeOf(Status::Ok()), 0);
  EXPECT_EQ(OutcomeOf(Status::NotFound("x")), 4);
  EXPECT_EQ(OutcomeOf(Status::Unavailable("x")), 8);
}

}  // namespace
}  // namespace ck::audit
