#include "access/jwt.h"

#include <openssl/evp.h>
#include <gtest/gtest.h>

#include "support/pem.h"
#include "util/crypto.h"

namespace ck::access {
namespace {

constexpr Millis kNow = 1'700'000'000'000;
constexpr std::int64_t kNowSeconds = kNow / 1000;

JsonValue Claims(std::initializer_list<std::pair<const char*, JsonValue>> members) {
  JsonValue object{JsonValue::Kind::kObject, {}, {}, {}};
  for (const auto& [name, value] : members) object.members.emplace_back(name, value);
  return object;
}
JsonValue Number(std::int64_t n) { return {JsonValue::Kind::kNumber, std::to_string(n), {}, {}}; }
JsonValue Text(const char* s) { return {JsonValue::Kind::kString, s, {}, {}}; }

JsonValue GoodClaims() {
  return Claims({{"iss", Text("https://ck.example/auth")}, {"aud", Text("https://ck.example/fhir")}, {"sub", Text("alice")},
                 {"iat", Number(kNowSeconds)}, {"exp", Number(kNowSeconds + 300)}});
}

class JwtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = JoseKey::GenerateEs256("k1");
    ASSERT_TRUE(key);
    key_ = std::make_unique<JoseKey>(std::move(*key));
    check_.now = kNow;
    check_.issuer = "https://ck.example/auth";
    check_.audience = "https://ck.example/fhir";
  }
  JwtKeyLookup Keys() const {
    return [this](std::string_view kid) -> const JoseKey* { return kid == key_->kid() ? key_.get() : nullptr; };
  }
  Result<JsonValue> Verify(const std::string& token) const { return VerifyJwt(token, Keys(), check_); }
  std::string Sign(const JsonValue& claims) const { return *SignJwt(*key_, claims); }
  // A token with a header and payload of our choosing and signature bytes `signature`.
  static std::string Forge(const std::string& header, const std::string& payload, const std::string& signature) {
    return Base64UrlEncode(header) + "." + Base64UrlEncode(payload) + "." + Base64UrlEncode(signature);
  }
  void ExpectRefused(const std::string& token, const char* why) const {
    auto verified = Verify(token);
    ASSERT_FALSE(verified) << why;
    EXPECT_EQ(verified.error().code(), StatusCode::kUnauthenticated);
    EXPECT_NE(verified.error().message().find(why), std::string::npos) << verified.error().message();
  }

  std::unique_ptr<JoseKey> key_;
  JwtCheck check_;
};

TEST_F(JwtTest, ASignedTokenVerifiesAndKeepsItsClaims) {
  const std::string token = Sign(GoodClaims());
  auto claims = Verify(token);
  ASSERT_TRUE(claims) << claims.error().ToString();
  EXPECT_EQ(claims->Find("sub")->text, "alice");
  auto header = Base64UrlDecode(token.substr(0, token.find('.')));
  EXPECT_EQ(*header, R"({"alg":"ES256","typ":"JWT","kid":"k1"})");
  // An ES256 signature is R||S, 64 bytes.
  EXPECT_EQ(Base64UrlDecode(token.substr(token.rfind('.') + 1))->size(), 64u);
}

TEST_F(JwtTest, RefusesAlgNoneAndKeyConfusion) {
  const std::string payload = WriteJsonValue(GoodClaims());
  ExpectRefused(Forge(R"({"alg":"none","kid":"k1"})", payload, ""), "algorithm none");
  ExpectRefused(Base64UrlEncode(R"({"alg":"none","kid":"k1"})") + "." + Base64UrlEncode(payload) + ".", "algorithm none");
  // HS256 keyed with the public key, as a confused verifier would accept.
  const std::string public_key_text = [&] {
    auto jwk = key_->PublicJwk();
    return WriteJsonValue(jwk);
  }();
  const std::string header = R"({"alg":"HS256","kid":"k1"})";
  const std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
  ExpectRefused(input + "." + Base64UrlEncode(Hmac(HmacDigest::kSha256, public_key_text, input)), "algorithm HS256");
  ExpectRefused(Forge(R"({"kid":"k1"})", payload, "x"), "names no algorithm");
}

TEST_F(JwtTest, RefusesATamperedOrForeignToken) {
  const std::string token = Sign(GoodClaims());
  const std::size_t dot = token.find('.');
  JsonValue other = GoodClaims();
  other.Find("sub")->text = "mallory";
  const std::string tampered = token.substr(0, dot + 1) + Base64UrlEncode(WriteJsonValue(other)) + token.substr(token.rfind('.'));
  ExpectRefused(tampered, "signature does not match");

  // Same kid, another key.
  auto impostor = JoseKey::GenerateEs256("k1");
  ExpectRefused(*SignJwt(*impostor, GoodClaims()), "signature does not match");
  auto unknown = JoseKey::GenerateEs256("k2");
  ExpectRefused(*SignJwt(*unknown, GoodClaims()), "does not know");

  // A DER-encoded ECDSA signature is not JWS's form.
  std::string signature = *Base64UrlDecode(token.substr(token.rfind('.') + 1));
  ExpectRefused(token.substr(0, token.rfind('.') + 1) + Base64UrlEncode(signature.substr(1)), "signature does not match");
  ExpectRefused(token.substr(0, token.rfind('.') + 1) + "!!", "signature does not match");
}

TEST_F(JwtTest, ChecksTheClaims) {
  JsonValue claims = GoodClaims();
  claims.Find("exp")->text = std::to_string(kNowSeconds - 60);
  ExpectRefused(Sign(claims), "expired");
  claims.Find("exp")->text = std::to_string(kNowSeconds - 10);  // within the leeway
  EXPECT_TRUE(Verify(Sign(claims)));

  claims = GoodClaims();
  claims.members.erase(claims.members.end() - 1);  // exp
  ExpectRefused(Sign(claims), "no expiry");
  claims = GoodClaims();
  claims.Find("exp")->kind = JsonValue::Kind::kString;
  ExpectRefused(Sign(claims), "no expiry");

  claims = GoodClaims();
  claims.members.emplace_back("nbf", Number(kNowSeconds + 120));
  ExpectRefused(Sign(claims), "not yet valid");
  claims = GoodClaims();
  claims.Find("iat")->text = std::to_string(kNowSeconds + 120);
  ExpectRefused(Sign(claims), "issued in the future");

  claims = GoodClaims();
  claims.Find("iss")->text = "https://evil.example";
  ExpectRefused(Sign(claims), "issued by someone else");
  claims = GoodClaims();
  claims.Find("aud")->text = "https://other.example/fhir";
  ExpectRefused(Sign(claims), "another audience");
  claims = GoodClaims();
  *claims.Find("aud") = JsonValue{JsonValue::Kind::kArray, {}, {Text("https://x.example"), Text("https://ck.example/fhir")}, {}};
  EXPECT_TRUE(Verify(Sign(claims)));

  check_.max_lifetime_seconds = 60;
  ExpectRefused(Sign(GoodClaims()), "too far in the future");
}

TEST_F(JwtTest, RefusesMalformedTokens) {
  const std::string token = Sign(GoodClaims());
  ExpectRefused(token.substr(0, token.rfind('.')), "three parts");
  ExpectRefused(token + ".x", "three parts");
  ExpectRefused("", "three parts");
  ExpectRefused(std::string(kMaxJwtBytes + 1, 'a'), "too long");
  ExpectRefused(Forge("not json", "{}", "x"), "header is not a JSON object");
  ExpectRefused(Forge("[1]", "{}", "x"), "header is not a JSON object");
  ExpectRefused("e30." + std::string("%%%") + ".x", "names no algorithm");
  ExpectRefused(Forge(R"({"alg":"ES256","kid":"k1","crit":["exp"]})", "{}", "x"), "critical");
  // A payload that is not JSON, validly signed.
  const std::string input = Base64UrlEncode(R"({"alg":"ES256","kid":"k1"})") + "." + Base64UrlEncode("not json");
  ExpectRefused(input + "." + Base64UrlEncode(*key_->Sign(input)), "payload is not a JSON object");
  // Deep nesting in the payload.
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  const std::string deep_input = Base64UrlEncode(R"({"alg":"ES256","kid":"k1"})") + "." + Base64UrlEncode(deep);
  ExpectRefused(deep_input + "." + Base64UrlEncode(*key_->Sign(deep_input)), "payload is not a JSON object");
}

TEST(JoseKeyTest, KeysRoundTripThroughPemAndJwk) {
  for (const char* kind : {"P-256", "P-384", "RSA"}) {
    EVP_PKEY* raw = std::string(kind) == "RSA" ? EVP_RSA_gen(2048) : EVP_EC_gen(kind);
    auto signer = JoseKey::FromPrivatePem(testing::PemOf(raw, true), "s");
    auto from_pem = JoseKey::FromPublicPem(testing::PemOf(raw, false), "s", JoseAlgorithm::kRS256);
    EVP_PKEY_free(raw);
    ASSERT_TRUE(signer && from_pem) << kind;
    EXPECT_EQ(signer->algorithm(), from_pem->algorithm()) << kind;
    auto from_jwk = JoseKey::FromJwk(from_pem->PublicJwk());
    ASSERT_TRUE(from_jwk) << kind << ": " << from_jwk.error().ToString();
    EXPECT_EQ(from_jwk->algorithm(), signer->algorithm());
    EXPECT_FALSE(from_jwk->has_private());
    auto signature = signer->Sign("data");
    ASSERT_TRUE(signature);
    EXPECT_TRUE(from_pem->Verify("data", *signature)) << kind;
    EXPECT_TRUE(from_jwk->Verify("data", *signature)) << kind;
    EXPECT_FALSE(from_jwk->Verify("datA", *signature)) << kind;
  }
}

TEST(JoseKeyTest, RefusesKeysThatAreUnsafeOrMalformed) {
  EVP_PKEY* small = EVP_RSA_gen(1024);
  EXPECT_FALSE(JoseKey::FromPublicPem(testing::PemOf(small, false), "x"));
  EVP_PKEY_free(small);
  EXPECT_FALSE(JoseKey::FromPublicPem("not pem", "x"));
  EXPECT_FALSE(JoseKey::FromPrivatePem("not pem", "x"));
  auto key = JoseKey::GenerateEs256("k");
  JsonValue jwk = key->PublicJwk();
  JsonValue with_private = jwk;
  with_private.members.emplace_back("d", Text("AAAA"));
  EXPECT_FALSE(JoseKey::FromJwk(with_private));
  JsonValue wrong_alg = jwk;
  wrong_alg.Find("alg")->text = "HS256";
  EXPECT_FALSE(JoseKey::FromJwk(wrong_alg));
  JsonValue short_x = jwk;
  short_x.Find("x")->text = "AAAA";
  EXPECT_FALSE(JoseKey::FromJwk(short_x));
  JsonValue off_curve = jwk;
  off_curve.Find("y")->text = off_curve.Find("x")->text;  // almost surely not on the curve
  EXPECT_FALSE(JoseKey::FromJwk(off_curve));
  JsonValue octet = jwk;
  octet.Find("kty")->text = "oct";
  EXPECT_FALSE(JoseKey::FromJwk(octet));
  EXPECT_FALSE(JoseKey::FromJwk(Text("x")));
}

}  // namespace
}  // namespace ck::access
