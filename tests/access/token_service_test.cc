#include "access/token_service.h"

#include <openssl/evp.h>
#include <gtest/gtest.h>

#include "access/jwt.h"
#include "store/sqlite/sqlite_store.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"
#include "support/pem.h"
#include "util/crypto.h"

namespace ck::access {
namespace {

constexpr char kTokenUrl[] = "https://ck.example/auth/token";

class TokenServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::sqlite::OpenSqliteStore({.data_dir = dir_.path(), .clock = &clock_});
    ASSERT_TRUE(store);
    store_ = std::move(*store);
    accounts_ = std::make_unique<AccountDirectory>(*store_);
    keys_ = std::make_unique<SigningKeys>(*store_, clock_);
    service_ = std::make_unique<TokenService>(*keys_, *store_, clock_, Options(), Clients(), Users(), nullptr);
    // A backend service with a secret, one with a P-384 key, and a public app.
    Client script;
    script.id = "ck-script";
    script.kind = ClientKind::kBackend;
    script.secret_hash = Sha256Hex("s3cret");
    script.scope = "system/Patient.rs system/Observation.cruds";
    script.roles = {"integration"};
    ASSERT_TRUE(accounts_->AddClient(script).ok());

    EVP_PKEY* raw = EVP_EC_gen("P-384");
    signer_ = std::make_unique<JoseKey>(*JoseKey::FromPrivatePem(testing::PemOf(raw, true), "lab-key"));
    Client lab;
    lab.id = "ck-lab";
    lab.kind = ClientKind::kBackend;
    lab.public_key_pem = testing::PemOf(raw, false);
    lab.scope = "system/*.rs";
    lab.roles = {"integration"};
    EVP_PKEY_free(raw);
    ASSERT_TRUE(accounts_->AddClient(lab).ok());

    Client app;
    app.id = "ck-app";
    app.kind = ClientKind::kPublic;
    app.scope = "patient/*.rs";
    ASSERT_TRUE(accounts_->AddClient(app).ok());
  }

  static TokenServiceOptions Options() {
    return {.issuer = "https://ck.example/auth", .audience = "https://ck.example/fhir", .token_endpoint = kTokenUrl};
  }

  TokenRequest BySecret(const std::string& id, const std::string& secret, const std::string& scope = "") {
    return {.grant_type = "client_credentials", .scope = scope, .basic_client_id = id, .basic_secret = secret};
  }

  JsonValue AssertionClaims(const std::string& jti = "a1") {
    const std::int64_t now = clock_.Now() / 1000;
    return *ParseJsonValue("{\"iss\":\"ck-lab\",\"sub\":\"ck-lab\",\"aud\":\"" + std::string(kTokenUrl) + "\",\"exp\":" +
                           std::to_string(now + 240) + ",\"jti\":\"" + jti + "\"}");
  }
  TokenRequest ByAssertion(const std::string& assertion) {
    return {.grant_type = "client_credentials",
            .client_assertion_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            .client_assertion = assertion};
  }
  void ExpectError(const tl::expected<TokenResponse, OAuthError>& result, const char* error, const char* why = "") {
    ASSERT_FALSE(result) << error;
    EXPECT_EQ(result.error().error, error) << result.error().description;
    EXPECT_NE(result.error().description.find(why), std::string::npos) << result.error().description;
    if (std::string(error) == "invalid_client") {
      EXPECT_EQ(result.error().http_status, 401);
    }
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<store::ResourceStore> store_;
  // Clients and users as stored now (the server keeps a copy; here changes show at once).
  ClientLookup Clients() {
    return [this](const std::string& id) { return accounts_->FindClient(id); };
  }
  UserLookup Users() {
    return [this](const std::string& name) { return accounts_->FindUser(name); };
  }

  std::unique_ptr<AccountDirectory> accounts_;
  std::unique_ptr<SigningKeys> keys_;
  std::unique_ptr<TokenService> service_;
  std::unique_ptr<JoseKey> signer_;
};

TEST_F(TokenServiceTest, IssuesATokenForASecretAndAuthenticatesIt) {
  auto token = service_->Token(BySecret("ck-script", "s3cret"));
  ASSERT_TRUE(token) << token.error().description;
  EXPECT_EQ(token->scope, "system/Patient.rs system/Observation.cruds");
  EXPECT_EQ(token->expires_in, 300);
  auto identity = service_->Authenticate(token->access_token);
  ASSERT_TRUE(identity) << identity.error().ToString();
  EXPECT_EQ(identity->client_id, "ck-script");
  EXPECT_EQ(identity->roles, std::vector<std::string>{"integration"});
  EXPECT_EQ(identity->scopes.resources.size(), 2u);
  EXPECT_EQ(identity->expires, (clock_.Now() / 1000 + 300) * 1000);
}

TEST_F(TokenServiceTest, GrantsOnlyTheScopesTheClientMayHave) {
  auto narrowed = service_->Token(BySecret("ck-script", "s3cret", "system/Observation.rs system/Encounter.rs"));
  ASSERT_TRUE(narrowed);
  EXPECT_EQ(narrowed->scope, "system/Observation.rs");
  ExpectError(service_->Token(BySecret("ck-script", "s3cret", "system/Patient.u")), "invalid_scope");
  ExpectError(service_->Token(BySecret("ck-script", "s3cret", "user/Patient.rs")), "invalid_scope");
  ExpectError(service_->Token(BySecret("ck-script", "s3cret", "system/Patient.zz")), "invalid_scope");
  auto with_query = service_->Token(BySecret("ck-script", "s3cret", "system/Observation.rs?category=laboratory"));
  ASSERT_TRUE(with_query);
  EXPECT_EQ(with_query->scope, "system/Observation.rs?category=laboratory");
}

TEST_F(TokenServiceTest, RefusesBadClientsAndGrants) {
  ExpectError(service_->Token(BySecret("ck-script", "wrong")), "invalid_client", "wrong client secret");
  ExpectError(service_->Token(BySecret("ck-nobody", "s3cret")), "invalid_client", "unknown");
  ExpectError(service_->Token(BySecret("ck-lab", "s3cret")), "invalid_client", "has no secret");
  ExpectError(service_->Token(BySecret("ck-app", "")), "invalid_client", "has no secret");
  TokenRequest public_app{.grant_type = "client_credentials", .client_id = "ck-app"};
  ExpectError(service_->Token(public_app), "unauthorized_client");
  ExpectError(service_->Token({.grant_type = "client_credentials"}), "invalid_client");
  TokenRequest no_grant = BySecret("ck-script", "s3cret");
  no_grant.grant_type = "";
  ExpectError(service_->Token(no_grant), "invalid_request");
  TokenRequest password = BySecret("ck-script", "s3cret");
  password.grant_type = "password";
  ExpectError(service_->Token(password), "unsupported_grant_type");
  TokenRequest both = ByAssertion("x.y.z");
  both.basic_client_id = "ck-script";
  ExpectError(service_->Token(both), "invalid_client", "one way");
}

TEST_F(TokenServiceTest, ARevokedClientLosesItsTokens) {
  auto token = service_->Token(BySecret("ck-script", "s3cret"));
  ASSERT_TRUE(token);
  ASSERT_TRUE(accounts_->UpdateClient("ck-script", [](Client& c) {
    c.revoked = true;
    return Status::Ok();
  }));
  EXPECT_EQ(service_->Authenticate(token->access_token).error().code(), StatusCode::kUnauthenticated);
  ExpectError(service_->Token(BySecret("ck-script", "s3cret")), "invalid_client", "revoked");
}

TEST_F(TokenServiceTest, AcceptsASignedAssertionOnce) {
  const std::string assertion = *SignJwt(*signer_, AssertionClaims());
  auto token = service_->Token(ByAssertion(assertion));
  ASSERT_TRUE(token) << token.error().description;
  EXPECT_EQ(token->scope, "system/*.rs");
  EXPECT_TRUE(service_->Authenticate(token->access_token));
  ExpectError(service_->Token(ByAssertion(assertion)), "invalid_client", "used before");
  // A new jti works.
  EXPECT_TRUE(service_->Token(ByAssertion(*SignJwt(*signer_, AssertionClaims("a2")))));
}

TEST_F(TokenServiceTest, RefusesBadAssertions) {
  auto with = [&](const char* name, JsonValue value) {
    JsonValue claims = AssertionClaims("x-" + std::string(name));
    *claims.Find(name) = std::move(value);
    return *SignJwt(*signer_, claims);
  };
  const std::int64_t now = clock_.Now() / 1000;
  ExpectError(service_->Token(ByAssertion(with("aud", {JsonValue::Kind::kString, "https://other/token", {}, {}}))), "invalid_client",
              "another audience");
  ExpectError(service_->Token(ByAssertion(with("exp", {JsonValue::Kind::kNumber, std::to_string(now + 3600), {}, {}}))),
              "invalid_client", "too far");
  ExpectError(service_->Token(ByAssertion(with("exp", {JsonValue::Kind::kNumber, std::to_string(now - 600), {}, {}}))),
              "invalid_client", "expired");
  ExpectError(service_->Token(ByAssertion(with("sub", {JsonValue::Kind::kString, "ck-script", {}, {}}))), "invalid_client", "sub");
  ExpectError(service_->Token(ByAssertion(with("jti", {JsonValue::Kind::kNumber, "7", {}, {}}))), "invalid_client", "jti");
  ExpectError(service_->Token(ByAssertion(with("iss", {JsonValue::Kind::kString, "ck-script", {}, {}}))), "invalid_client");
  auto other = JoseKey::GenerateEs256("lab-key");
  ExpectError(service_->Token(ByAssertion(*SignJwt(*other, AssertionClaims("o1")))), "invalid_client");
  const std::string none = Base64UrlEncode(R"({"alg":"none"})") + "." + Base64UrlEncode(WriteJsonValue(AssertionClaims("n1"))) + ".";
  ExpectError(service_->Token(ByAssertion(none)), "invalid_client", "algorithm none");
  ExpectError(service_->Token(ByAssertion("garbage")), "invalid_client");
  TokenRequest wrong_type = ByAssertion(*SignJwt(*signer_, AssertionClaims("t1")));
  wrong_type.client_assertion_type = "jwt";
  ExpectError(service_->Token(wrong_type), "invalid_request");
}

TEST_F(TokenServiceTest, AcceptsAnRs384AssertionFromAJwksAndRefusesRs256ForThatKey) {
  EVP_PKEY* raw = EVP_RSA_gen(2048);
  auto rs384 = JoseKey::FromPrivatePem(testing::PemOf(raw, true), "rsa-1", JoseAlgorithm::kRS384);
  auto rs256 = JoseKey::FromPrivatePem(testing::PemOf(raw, true), "rsa-1", JoseAlgorithm::kRS256);
  auto public_key = JoseKey::FromPublicPem(testing::PemOf(raw, false), "rsa-1", JoseAlgorithm::kRS384);
  EVP_PKEY_free(raw);
  ASSERT_TRUE(rs384 && rs256 && public_key);
  Client registry;
  registry.id = "ck-registry";
  registry.kind = ClientKind::kBackend;
  registry.jwks = "{\"keys\":[" + WriteJsonValue(public_key->PublicJwk()) + "]}";
  registry.scope = "system/Patient.rs";
  registry.roles = {"integration"};
  ASSERT_TRUE(accounts_->AddClient(registry).ok());
  auto claims = [&](const char* jti) {
    JsonValue c = AssertionClaims(jti);
    c.Find("iss")->text = "ck-registry";
    c.Find("sub")->text = "ck-registry";
    return c;
  };
  auto token = service_->Token(ByAssertion(*SignJwt(*rs384, claims("r1"))));
  ASSERT_TRUE(token) << token.error().description;
  EXPECT_EQ(token->scope, "system/Patient.rs");
  // The JWKS says RS384: the same key under RS256 is refused.
  ExpectError(service_->Token(ByAssertion(*SignJwt(*rs256, claims("r2")))), "invalid_client");
}

TEST_F(TokenServiceTest, RefusesTokensThatAreNotThisServersOrHaveExpired) {
  auto token = service_->Token(BySecret("ck-script", "s3cret"));
  ASSERT_TRUE(token);
  TokenServiceOptions elsewhere = Options();
  elsewhere.issuer = "https://other.example/auth";
  TokenService other(*keys_, *store_, clock_, elsewhere, Clients(), Users(), nullptr);
  EXPECT_EQ(other.Authenticate(token->access_token).error().code(), StatusCode::kUnauthenticated);
  std::string tampered = token->access_token;
  tampered[tampered.find('.') + 5] ^= 1;
  EXPECT_EQ(service_->Authenticate(tampered).error().code(), StatusCode::kUnauthenticated);
  clock_.Advance(301'000 + 30'000);
  auto expired = service_->Authenticate(token->access_token);
  ASSERT_FALSE(expired);
  EXPECT_NE(expired.error().message().find("expired"), std::string::npos);
}

TEST(GrantedScopesTest, NarrowsToWhatIsAllowed) {
  auto allowed = ParseScopes("system/Observation.rs?category=laboratory system/Patient.cruds");
  auto requested = ParseScopes("system/Observation.rs system/Observation.r?category=laboratory&status=final system/Patient.r user/Patient.r");
  ScopeSet granted = GrantedScopes(*requested, *allowed);
  ASSERT_EQ(granted.resources.size(), 2u);
  EXPECT_EQ(granted.resources[0].ToString(), "system/Observation.r?category=laboratory&status=final");
  EXPECT_EQ(granted.resources[1].ToString(), "system/Patient.r");
}

}  // namespace
}  // namespace ck::access
