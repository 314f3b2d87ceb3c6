#include "access/access_control.h"

#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"
#include "util/crypto.h"

namespace ck::access {
namespace {

using records::Interaction;

Identity WithScopes(const std::string& scopes, std::vector<std::string> roles = {"integration"}) {
  Identity identity;
  identity.subject = "ck-x";
  identity.client_id = "ck-x";
  identity.roles = std::move(roles);
  identity.scopes = *ParseScopes(scopes);
  return identity;
}

TEST(TokenGuardTest, AllowsWhatScopesAndRolesBothAllow) {
  const AccessPolicy policy = AccessPolicy::Defaults();
  TokenGuard guard(WithScopes("system/Patient.rs system/Observation.c"), policy);
  EXPECT_TRUE(guard.Allow(Interaction::kRead, "Patient").ok());
  EXPECT_TRUE(guard.Allow(Interaction::kSearch, "Patient").ok());
  EXPECT_TRUE(guard.Allow(Interaction::kCreate, "Observation").ok());
  Status refused = guard.Allow(Interaction::kUpdate, "Patient");
  EXPECT_EQ(refused.code(), StatusCode::kForbidden);
  EXPECT_NE(refused.message().find("scopes do not allow update of Patient"), std::string::npos);
  EXPECT_EQ(guard.Allow(Interaction::kRead, "Observation").code(), StatusCode::kForbidden);

  TokenGuard audit(WithScopes("system/*.rs"), policy);  // integration denies AuditEvent
  EXPECT_TRUE(audit.Allow(Interaction::kRead, "Encounter").ok());
  Status denied = audit.Allow(Interaction::kRead, "AuditEvent");
  EXPECT_NE(denied.message().find("roles do not allow read of AuditEvent"), std::string::npos);
  EXPECT_EQ(audit.Allow(Interaction::kRead, "*").code(), StatusCode::kForbidden);

  TokenGuard admin(WithScopes("system/*.cruds", {"admin"}), policy);
  EXPECT_TRUE(admin.Allow(Interaction::kRead, "*").ok());
  TokenGuard narrow_admin(WithScopes("system/Patient.rs", {"admin"}), policy);
  EXPECT_EQ(narrow_admin.Allow(Interaction::kRead, "*").code(), StatusCode::kForbidden);
}

TEST(TokenGuardTest, AScopeQueryLimitsToMatchingResourcesUnlessAnUnqueriedScopeCovers) {
  const AccessPolicy policy = AccessPolicy::Defaults();
  TokenGuard query(WithScopes("system/Observation.rs?category=laboratory"), policy);
  EXPECT_TRUE(query.Allow(Interaction::kSearch, "Observation").ok());
  const records::AccessLimit limit = query.Limit(Interaction::kSearch, "Observation");
  EXPECT_EQ(limit.patient, "");
  ASSERT_EQ(limit.query.size(), 1u);
  EXPECT_EQ(limit.query[0], (std::pair<std::string, std::string>("category", "laboratory")));
  TokenGuard both(WithScopes("system/Observation.rs?category=laboratory system/Observation.rs"), policy);
  EXPECT_TRUE(both.Limit(Interaction::kSearch, "Observation").empty());
}

TEST(TokenGuardTest, PatientScopesNeedAPatient) {
  const AccessPolicy policy = AccessPolicy::Defaults();
  TokenGuard no_patient(WithScopes("patient/*.rs", {"clinician"}), policy);
  EXPECT_EQ(no_patient.Allow(Interaction::kRead, "Observation").code(), StatusCode::kForbidden);
}

TEST(TokenGuardTest, PatientScopesLimitToTheCompartmentUnlessAUserScopeCovers) {
  const AccessPolicy policy = AccessPolicy::Defaults();
  Identity identity = WithScopes("patient/*.rs user/Practitioner.rs", {"clinician"});
  identity.patient = "ann";
  TokenGuard guard(identity, policy);
  EXPECT_TRUE(guard.Allow(Interaction::kRead, "Observation").ok());
  EXPECT_EQ(guard.Limit(Interaction::kRead, "Observation").patient, "ann");
  EXPECT_TRUE(guard.Allow(Interaction::kSearch, "Practitioner").ok());
  EXPECT_TRUE(guard.Limit(Interaction::kSearch, "Practitioner").empty());
  EXPECT_EQ(guard.Allow(Interaction::kCreate, "Observation").code(), StatusCode::kForbidden);
  EXPECT_EQ(guard.Allow(Interaction::kRead, "*").code(), StatusCode::kForbidden);
}

TEST(TokenGuardTest, EmergencyAccessReadsOnePatientWhateverTheScopesButNotTheAuditTrail) {
  const AccessPolicy policy = AccessPolicy::Defaults();
  Identity identity = WithScopes("patient/*.rs", {"clinician"});
  identity.patient = "bob";
  identity.break_glass = "unconscious, allergies unknown";
  TokenGuard guard(identity, policy);
  EXPECT_TRUE(guard.Allow(Interaction::kRead, "MedicationStatement").ok());
  EXPECT_EQ(guard.Limit(Interaction::kRead, "MedicationStatement").patient, "bob");
  EXPECT_EQ(guard.Allow(Interaction::kUpdate, "MedicationStatement").code(), StatusCode::kForbidden);
  EXPECT_EQ(guard.Allow(Interaction::kRead, "AuditEvent").code(), StatusCode::kForbidden);
  Identity analyst = identity;
  analyst.roles = {"him-analyst"};  // may not break the glass
  EXPECT_EQ(TokenGuard(analyst, policy).Allow(Interaction::kRead, "Observation").code(), StatusCode::kForbidden);
}

class AccessControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::sqlite::OpenSqliteStore({.data_dir = dir_.path(), .clock = &clock_});
    ASSERT_TRUE(store);
    store_ = std::move(*store);
    Client client;
    client.id = "ck-script";
    client.kind = ClientKind::kBackend;
    client.secret_hash = Sha256Hex("s3cret");
    client.scope = "system/Patient.rs";
    client.roles = {"integration"};
    ASSERT_TRUE(AccountDirectory(*store_).AddClient(client).ok());
    auto control = AccessControl::Open(*store_, clock_, AccessPolicy::Defaults(), {.base_url = "http://ck.test"});
    ASSERT_TRUE(control) << control.error().ToString();
    control_ = std::move(*control);
  }
  std::string Token() {
    auto issued = control_->Token({.grant_type = "client_credentials", .basic_client_id = "ck-script", .basic_secret = "s3cret"});
    EXPECT_TRUE(issued);
    return issued->access_token;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<store::ResourceStore> store_;
  std::unique_ptr<AccessControl> control_;
};

TEST_F(AccessControlTest, AuthenticatesBearerHeadersAndRemembersATokenOnlyUntilItExpires) {
  const std::string token = Token();
  for (int i = 0; i < 3; ++i) {  // verified, then remembered
    auto guard = control_->Authenticate("Bearer " + token);
    ASSERT_TRUE(guard) << guard.error().ToString();
    EXPECT_EQ(guard->get()->identity().client_id, "ck-script");
    EXPECT_TRUE(guard->get()->Allow(Interaction::kRead, "Patient").ok());
  }
  EXPECT_TRUE(control_->Authenticate("bearer   " + token));  // the scheme is case-insensitive
  clock_.Advance(5 * 60 * 1000 + 31'000);
  auto expired = control_->Authenticate("Bearer " + token);
  ASSERT_FALSE(expired);
  EXPECT_NE(expired.error().message().find("expired"), std::string::npos);
}

TEST_F(AccessControlTest, RefusesHeadersThatAreNotBearerTokens) {
  for (const char* header : {"", "Bearer", "Bearer ", "Basic Y2stc2NyaXB0OnMzY3JldA==", "Token abc"}) {
    auto refused = control_->Authenticate(header);
    ASSERT_FALSE(refused) << header;
    EXPECT_EQ(refused.error().code(), StatusCode::kUnauthenticated);
  }
  const std::string token = Token();
  EXPECT_FALSE(control_->Authenticate("Bearer " + token.substr(0, token.size() - 2)));
}

TEST_F(AccessControlTest, PublishesTheSmartConfigurationAndKeys) {
  auto config = ParseJsonValue(control_->SmartConfiguration());
  ASSERT_TRUE(config);
  EXPECT_EQ(config->Find("token_endpoint")->text, "http://ck.test/auth/token");
  EXPECT_EQ(config->Find("issuer")->text, "http://ck.test/auth");
  EXPECT_EQ(control_->Jwks().Find("keys")->items.size(), 1u);
}

}  // namespace
}  // namespace ck::access
