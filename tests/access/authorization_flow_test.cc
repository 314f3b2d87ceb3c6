#include "access/authorization_flow.h"

#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"
#include "util/crypto.h"

namespace ck::access {
namespace {

class AuthorizationFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::sqlite::OpenSqliteStore({.data_dir = dir_.path(), .clock = &clock_});
    ASSERT_TRUE(store);
    store_ = std::move(*store);
    accounts_ = std::make_unique<AccountDirectory>(*store_);
    app_.id = "ck-app";
    app_.name = "app";
    app_.kind = ClientKind::kPublic;
    app_.redirect_uris = {"https://app.example/cb"};
    app_.scope = "user/*.rs";
    flow_ = std::make_unique<AuthorizationFlow>(
        *accounts_, policy_, clock_, [this](const std::string& id) -> Result<std::optional<Client>> {
          return id == app_.id ? std::optional<Client>(app_) : std::nullopt;
        },
        nullptr, AuthorizationFlowOptions{.audience = "https://ck.example/fhir", .issuer_name = "Chartkeeper"});
  }
  AuthorizeRequest Request(const std::string& address) {
    return {.response_type = "code", .client_id = "ck-app", .redirect_uri = "https://app.example/cb", .scope = "user/*.rs",
            .state = "s", .aud = "https://ck.example/fhir", .code_challenge = Base64UrlEncode(Sha256("verifier")),
            .code_challenge_method = "S256", .address = address};
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<store::ResourceStore> store_;
  std::unique_ptr<AccountDirectory> accounts_;
  AccessPolicy policy_ = AccessPolicy::Defaults();
  Client app_;
  std::unique_ptr<AuthorizationFlow> flow_;
};

TEST_F(AuthorizationFlowTest, OneAddressMayHaveFiftySignInsUnderWayAndOthersAreNotLockedOut) {
  for (int i = 0; i < 50; ++i) ASSERT_EQ(flow_->Begin(Request("10.0.0.1")).kind, LoginStep::Kind::kSignIn) << i;
  LoginStep refused = flow_->Begin(Request("10.0.0.1"));
  EXPECT_EQ(refused.kind, LoginStep::Kind::kError);
  EXPECT_EQ(refused.http_status, 429);
  EXPECT_EQ(flow_->Begin(Request("10.0.0.2")).kind, LoginStep::Kind::kSignIn);
  clock_.Advance(10 * 60 * 1000);  // the sign-ins left are forgotten
  EXPECT_EQ(flow_->Begin(Request("10.0.0.1")).kind, LoginStep::Kind::kSignIn);
}

TEST_F(AuthorizationFlowTest, ErrorsBeforeTheRedirectUriIsKnownGoodArePagesAndAfterAreRedirects) {
  AuthorizeRequest other_uri = Request("10.0.0.1");
  other_uri.redirect_uri = "https://evil.example/cb";
  EXPECT_EQ(flow_->Begin(other_uri).kind, LoginStep::Kind::kError);
  AuthorizeRequest unknown = Request("10.0.0.1");
  unknown.client_id = "ck-unknown";
  EXPECT_EQ(flow_->Begin(unknown).kind, LoginStep::Kind::kError);
  AuthorizeRequest plain = Request("10.0.0.1");
  plain.code_challenge_method = "plain";
  LoginStep redirected = flow_->Begin(plain);
  ASSERT_EQ(redirected.kind, LoginStep::Kind::kRedirect);
  EXPECT_TRUE(redirected.redirect.starts_with("https://app.example/cb?error=invalid_request")) << redirected.redirect;
  EXPECT_NE(redirected.redirect.find("&state=s"), std::string::npos);
}

TEST_F(AuthorizationFlowTest, AFormOfAnotherSignInOrWithTheWrongCsrfTokenIsRefused) {
  LoginStep page = flow_->Begin(Request("10.0.0.1"));
  LoginStep forged = flow_->Submit({.login = page.login, .csrf = "guess", .step = "sign-in", .user = "x", .password = "y"});
  EXPECT_EQ(forged.http_status, 403);
  LoginStep unknown = flow_->Submit({.login = "no-such-sign-in", .csrf = page.csrf, .step = "sign-in"});
  EXPECT_EQ(unknown.http_status, 400);
  EXPECT_EQ(flow_->Redeem("no-such-code", "ck-app", "https://app.example/cb", "verifier").error().error, "invalid_grant");
}

}  // namespace
}  // namespace ck::access
