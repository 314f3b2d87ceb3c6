#include "access/scope.h"

#include <gtest/gtest.h>

namespace ck::access {
namespace {

std::uint8_t Bits(std::initializer_list<Permission> permissions) {
  std::uint8_t bits = 0;
  for (Permission p : permissions) bits |= static_cast<std::uint8_t>(p);
  return bits;
}

TEST(ScopeTest, ParsesSmartV2ResourceScopes) {
  auto scope = ParseResourceScope("patient/Observation.rs");
  ASSERT_TRUE(scope);
  EXPECT_EQ(scope->context, ScopeContext::kPatient);
  EXPECT_EQ(scope->type, "Observation");
  EXPECT_EQ(scope->permissions, Bits({Permission::kRead, Permission::kSearch}));
  EXPECT_TRUE(scope->query.empty());

  scope = ParseResourceScope("user/*.cruds");
  ASSERT_TRUE(scope);
  EXPECT_EQ(scope->context, ScopeContext::kUser);
  EXPECT_EQ(scope->type, "*");
  EXPECT_EQ(scope->permissions, kAllPermissions);

  scope = ParseResourceScope("system/Patient.cud");
  ASSERT_TRUE(scope);
  EXPECT_EQ(scope->context, ScopeContext::kSystem);
  EXPECT_EQ(scope->permissions, Bits({Permission::kCreate, Permission::kUpdate, Permission::kDelete}));
}

TEST(ScopeTest, ParsesQueriesDecodingTheirValues) {
  auto scope = ParseResourceScope("patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category%7Claboratory");
  ASSERT_TRUE(scope);
  ASSERT_EQ(scope->query.size(), 1u);
  EXPECT_EQ(scope->query[0].first, "category");
  EXPECT_EQ(scope->query[0].second, "http://terminology.hl7.org/CodeSystem/observation-category|laboratory");
  scope = ParseResourceScope("user/Observation.rs?category=laboratory&status=final");
  ASSERT_TRUE(scope);
  EXPECT_EQ(scope->query.size(), 2u);
  EXPECT_EQ(scope->ToString(), "user/Observation.rs?category=laboratory&status=final");
}

TEST(ScopeTest, AcceptsSmartV1Forms) {
  EXPECT_EQ(ParseResourceScope("patient/Observation.read")->permissions, Bits({Permission::kRead, Permission::kSearch}));
  EXPECT_EQ(ParseResourceScope("user/Patient.write")->permissions,
            Bits({Permission::kCreate, Permission::kUpdate, Permission::kDelete}));
  EXPECT_EQ(ParseResourceScope("system/*.*")->permissions, kAllPermissions);
  EXPECT_EQ(ParseResourceScope("user/Patient.read")->ToString(), "user/Patient.rs");
}

TEST(ScopeTest, RefusesMalformedResourceScopes) {
  for (const char* bad : {"patient/Observation", "practitioner/Observation.rs", "patient/Observation.sr", "patient/Observation.rr",
                          "patient/Observation.", "patient/Observation.x", "patient/.rs", "patient/observation.rs",
                          "patient/Obs-ervation.rs", "patient/Observation.rs?", "patient/Observation.rs?category",
                          "patient/Observation.rs?=x", "patient/Observation.rs?a=%zz", "Observation.rs"}) {
    auto scope = ParseResourceScope(bad);
    EXPECT_FALSE(scope) << bad;
    if (!scope) {
      EXPECT_EQ(scope.error().code(), StatusCode::kInvalid);
    }
  }
}

TEST(ScopeTest, ParsesAScopeStringIntoResourceAndLaunchScopes) {
  auto set = ParseScopes("openid fhirUser  launch/patient offline_access patient/Observation.rs user/Patient.read something-else");
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->openid);
  EXPECT_TRUE(set->fhir_user);
  EXPECT_TRUE(set->launch_patient);
  EXPECT_FALSE(set->launch);
  EXPECT_TRUE(set->offline_access);
  EXPECT_FALSE(set->online_access);
  EXPECT_EQ(set->resources.size(), 2u);
  EXPECT_EQ(set->unrecognized, std::vector<std::string>{"something-else"});
  EXPECT_FALSE(ParseScopes("openid patient/Observation.zz"));
}

TEST(ScopeTest, MatchesInteractionsByTypeAndPermission) {
  auto set = ParseScopes("patient/Observation.rs user/*.c");
  ASSERT_TRUE(set);
  EXPECT_EQ(CoveringScopes(*set, Permission::kRead, "Observation").size(), 1u);
  EXPECT_EQ(CoveringScopes(*set, Permission::kSearch, "Observation").size(), 1u);
  EXPECT_TRUE(CoveringScopes(*set, Permission::kRead, "Patient").empty());
  EXPECT_TRUE(CoveringScopes(*set, Permission::kUpdate, "Observation").empty());
  EXPECT_EQ(CoveringScopes(*set, Permission::kCreate, "Patient").size(), 1u);
  EXPECT_EQ(CoveringScopes(*set, Permission::kCreate, "Observation").size(), 1u);
}

}  // namespace
}  // namespace ck::access
