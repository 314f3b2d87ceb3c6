#include "access/access_policy.h"

#include <gtest/gtest.h>

namespace ck::access {
namespace {

using Roles = std::vector<std::string>;

TEST(AccessPolicyTest, ShipsTheDocumentedRoles) {
  const AccessPolicy policy = AccessPolicy::Defaults();
  EXPECT_EQ(policy.RoleNames(), (Roles{"admin", "auditor", "clinician", "coder", "him-analyst", "integration", "researcher"}));

  EXPECT_TRUE(policy.Allows({"clinician"}, Permission::kCreate, "Observation"));
  EXPECT_TRUE(policy.Allows({"clinician"}, Permission::kDelete, "Patient"));
  EXPECT_FALSE(policy.Allows({"clinician"}, Permission::kRead, "AuditEvent"));

  EXPECT_TRUE(policy.Allows({"auditor"}, Permission::kSearch, "AuditEvent"));
  EXPECT_FALSE(policy.Allows({"auditor"}, Permission::kRead, "Patient"));
  EXPECT_FALSE(policy.Allows({"auditor"}, Permission::kUpdate, "AuditEvent"));

  EXPECT_TRUE(policy.Allows({"coder"}, Permission::kUpdate, "Condition"));
  EXPECT_FALSE(policy.Allows({"coder"}, Permission::kUpdate, "Patient"));
  EXPECT_FALSE(policy.Allows({"coder"}, Permission::kDelete, "Condition"));

  EXPECT_TRUE(policy.Allows({"him-analyst"}, Permission::kUpdate, "DocumentReference"));
  EXPECT_FALSE(policy.Allows({"him-analyst"}, Permission::kCreate, "DocumentReference"));

  EXPECT_FALSE(policy.Allows({"researcher"}, Permission::kRead, "Patient"));
  EXPECT_TRUE(policy.Allows({"admin"}, Permission::kRead, "AuditEvent"));
  EXPECT_TRUE(policy.Allows({"integration"}, Permission::kCreate, "Patient"));

  EXPECT_TRUE(policy.TotpRequired({"admin"}));
  EXPECT_TRUE(policy.TotpRequired({"clinician", "auditor"}));
  EXPECT_FALSE(policy.TotpRequired({"clinician"}));
  // Every type at once: only a wildcard of a role that denies nothing.
  EXPECT_TRUE(policy.Allows({"admin"}, Permission::kRead, "*"));
  EXPECT_FALSE(policy.Allows({"clinician"}, Permission::kRead, "*"));
  EXPECT_FALSE(policy.Allows({"auditor"}, Permission::kRead, "*"));
  EXPECT_TRUE(policy.MayAdminister({"admin"}));
  EXPECT_FALSE(policy.MayAdminister({"clinician"}));
  EXPECT_TRUE(policy.MayBreakGlass({"clinician"}));
  EXPECT_FALSE(policy.MayBreakGlass({"coder"}));
}

TEST(AccessPolicyTest, RightsAreTheUnionOfRolesAndUnknownRolesGrantNothing) {
  const AccessPolicy policy = AccessPolicy::Defaults();
  EXPECT_TRUE(policy.Allows({"auditor", "coder"}, Permission::kRead, "AuditEvent"));
  EXPECT_TRUE(policy.Allows({"auditor", "coder"}, Permission::kRead, "Patient"));
  EXPECT_FALSE(policy.Allows({"superuser"}, Permission::kRead, "Patient"));
  EXPECT_FALSE(policy.Allows({}, Permission::kRead, "Patient"));
}

TEST(AccessPolicyTest, AFileReplacesTheRolesItNamesAndAddsNewOnes) {
  auto policy = AccessPolicy::FromToml(R"(
[roles.coder]
scopes = ["user/Condition.rs"]
totp = true

[roles.registrar]
scopes = ["user/Patient.cruds", "user/*.rs"]
deny = ["AuditEvent", "Observation"]
break_glass = true
)");
  ASSERT_TRUE(policy) << policy.error().ToString();
  EXPECT_TRUE(policy->Allows({"coder"}, Permission::kRead, "Condition"));
  EXPECT_FALSE(policy->Allows({"coder"}, Permission::kUpdate, "Condition"));  // the default's grant is gone
  EXPECT_FALSE(policy->Allows({"coder"}, Permission::kRead, "Patient"));
  EXPECT_TRUE(policy->TotpRequired({"coder"}));
  EXPECT_TRUE(policy->Allows({"registrar"}, Permission::kCreate, "Patient"));
  EXPECT_TRUE(policy->Allows({"registrar"}, Permission::kRead, "Encounter"));
  EXPECT_FALSE(policy->Allows({"registrar"}, Permission::kRead, "Observation"));
  EXPECT_TRUE(policy->MayBreakGlass({"registrar"}));
  EXPECT_TRUE(policy->Allows({"clinician"}, Permission::kRead, "Patient"));  // untouched
}

TEST(AccessPolicyTest, RefusesABadFileSayingWhere) {
  const std::pair<const char*, const char*> cases[] = {
      {"[roles.x]\nscopes = [\"user/Patient\"]\n", "roles.x.scopes"},
      {"[roles.x]\nscopes = [\"patient/Patient.rs\"]\n", "roles.x.scopes"},
      {"[roles.x]\nscopes = [\"user/Patient.rs?active=true\"]\n", "roles.x.scopes"},
      {"[roles.x]\nscopes = \"user/Patient.rs\"\n", "roles.x.scopes"},
      {"[roles.x]\ntotp = \"yes\"\n", "roles.x.totp"},
      {"[roles.x]\npowers = 1\n", "roles.x.powers"},
      {"[other]\nx = 1\n", "unknown key other"},
      {"roles = 3\n", "roles must be tables"},
      {"[roles.x\n", "not TOML"},
  };
  for (const auto& [text, where] : cases) {
    auto policy = AccessPolicy::FromToml(text, "policy.toml");
    ASSERT_FALSE(policy) << text;
    EXPECT_EQ(policy.error().code(), StatusCode::kInvalid);
    EXPECT_NE(policy.error().message().find(where), std::string::npos) << policy.error().message();
    EXPECT_NE(policy.error().message().find("policy.toml"), std::string::npos) << policy.error().message();
  }
  EXPECT_EQ(AccessPolicy::FromFile("/nonexistent/policy.toml").error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ck::access
