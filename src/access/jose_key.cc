#include "access/jose_key.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <utility>

#include "util/crypto.h"

namespace ck::access {

namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Bignum = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using MdContext = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;
using ParamBuilder = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using PkeyContext = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;

bool IsEc(JoseAlgorithm algorithm) { return algorithm == JoseAlgorithm::kES256 || algorithm == JoseAlgorithm::kES384; }
// Bytes of each of R and S in an EC signature.
std::size_t EcSize(JoseAlgorithm algorithm) { return algorithm == JoseAlgorithm::kES256 ? 32 : 48; }
const EVP_MD* Digest(JoseAlgorithm algorithm) {
  return algorithm == JoseAlgorithm::kES256 || algorithm == JoseAlgorithm::kRS256 ? EVP_sha256() : EVP_sha384();
}
const char* CurveName(JoseAlgorithm algorithm) { return algorithm == JoseAlgorithm::kES256 ? "P-256" : "P-384"; }

std::string CurveOf(EVP_PKEY* key) {
  char group[64] = {};
  std::size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &length) != 1) return "";
  return group;
}

// The algorithm a public or private key can be used with. Errors: kInvalid.
Result<JoseAlgorithm> AlgorithmOf(EVP_PKEY* key, JoseAlgorithm rsa_algorithm) {
  if (EVP_PKEY_is_a(key, "EC")) {
    const std::string curve = CurveOf(key);
    if (curve == "prime256v1") return JoseAlgorithm::kES256;
    if (curve == "secp384r1") return JoseAlgorithm::kES384;
    return Err(Status::Invalid("an EC key must be on P-256 or P-384"));
  }
  if (EVP_PKEY_is_a(key, "RSA")) {
    if (EVP_PKEY_get_bits(key) < 2048) return Err(Status::Invalid("an RSA key needs at least 2048 bits"));
    return rsa_algorithm;
  }
  return Err(Status::Invalid("a key must be EC (P-256, P-384) or RSA"));
}

Result<std::string> Member(const JsonValue& jwk, std::string_view name) {
  const JsonValue* value = jwk.Find(name);
  if (!value || value->kind != JsonValue::Kind::kString) return Err(Status::Invalid("a JWK needs the member " + std::string(name)));
  return Base64UrlDecode(value->text);
}

Result<Pkey> KeyFromParams(const char* type, OSSL_PARAM_BLD* builder) {
  Params params(OSSL_PARAM_BLD_to_param(builder));
  PkeyContext context(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return Err(Status::Invalid("the JWK is not a valid public key"));
  }
  return Pkey(key);
}

std::string BignumBytes(EVP_PKEY* key, const char* name, std::size_t size = 0) {
  BIGNUM* number = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &number) != 1) return "";
  Bignum owned(number);
  std::string out(size ? size : static_cast<std::size_t>(BN_num_bytes(number)), '\0');
  BN_bn2binpad(number, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  return out;
}

JsonValue Text(std::string_view text) { return {JsonValue::Kind::kString, std::string(text), {}, {}}; }

}  // namespace

std::string_view JoseAlgorithmName(JoseAlgorithm algorithm) {
  switch (algorithm) {
    case JoseAlgorithm::kES256: return "ES256";
    case JoseAlgorithm::kES384: return "ES384";
    case JoseAlgorithm::kRS256: return "RS256";
    case JoseAlgorithm::kRS384: return "RS384";
  }
  return "";
}

JoseKey::JoseKey(EVP_PKEY* key, std::string kid, JoseAlgorithm algorithm, bool has_private)
    : key_(key), kid_(std::move(kid)), algorithm_(algorithm), has_private_(has_private) {}
JoseKey::JoseKey(JoseKey&& other) noexcept
    : key_(std::exchange(other.key_, nullptr)), kid_(std::move(other.kid_)), algorithm_(other.algorithm_), has_private_(other.has_private_) {}
JoseKey& JoseKey::operator=(JoseKey&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(key_);
    key_ = std::exchange(other.key_, nullptr);
    kid_ = std::move(other.kid_);
    algorithm_ = other.algorithm_;
    has_private_ = other.has_private_;
  }
  return *this;
}
JoseKey::~JoseKey() { EVP_PKEY_free(key_); }

Result<JoseKey> JoseKey::GenerateEs256(std::string kid) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (!key) return Err(Status::Internal("could not make a signing key"));
  return JoseKey(key, std::move(kid), JoseAlgorithm::kES256, true);
}

Result<JoseKey> JoseKey::FromPrivatePem(std::string_view pem, std::string kid, JoseAlgorithm rsa_algorithm) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Err(Status::Invalid("not a PEM private key"));
  CK_ASSIGN_OR_RETURN(JoseAlgorithm algorithm, AlgorithmOf(key.get(), rsa_algorithm));
  return JoseKey(key.release(), std::move(kid), algorithm, true);
}

Result<JoseKey> JoseKey::FromPublicPem(std::string_view pem, std::string kid, JoseAlgorithm rsa_algorithm) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Pkey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Err(Status::Invalid("not a PEM public key"));
  CK_ASSIGN_OR_RETURN(JoseAlgorithm algorithm, AlgorithmOf(key.get(), rsa_algorithm));
  return JoseKey(key.release(), std::move(kid), algorithm, false);
}

Result<JoseKey> JoseKey::FromJwk(const JsonValue& jwk) {
  if (!jwk.is_object()) return Err(Status::Invalid("a JWK is a JSON object"));
  const JsonValue* kty = jwk.Find("kty");
  const JsonValue* kid = jwk.Find("kid");
  const JsonValue* alg = jwk.Find("alg");
  if (jwk.Find("d")) return Err(Status::Invalid("a JWK here must be a public key (it has \"d\")"));
  const std::string kid_text = kid && kid->kind == JsonValue::Kind::kString ? kid->text : "";
  ParamBuilder builder(OSSL_PARAM_BLD_new());
  Pkey key;
  if (kty && kty->text == "EC") {
    const JsonValue* crv = jwk.Find("crv");
    const std::string curve = crv ? crv->text : "";
    if (curve != "P-256" && curve != "P-384") return Err(Status::Invalid("an EC JWK must be on P-256 or P-384"));
    const std::size_t size = curve == "P-256" ? 32 : 48;
    CK_ASSIGN_OR_RETURN(std::string x, Member(jwk, "x"));
    CK_ASSIGN_OR_RETURN(std::string y, Member(jwk, "y"));
    if (x.size() != size || y.size() != size) return Err(Status::Invalid("an EC JWK's x and y have the curve's size"));
    const std::string point = "\x04" + x + y;
    OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve == "P-256" ? "prime256v1" : "secp384r1", 0);
    OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
    CK_ASSIGN_OR_RETURN(key, KeyFromParams("EC", builder.get()));
  } else if (kty && kty->text == "RSA") {
    CK_ASSIGN_OR_RETURN(std::string n, Member(jwk, "n"));
    CK_ASSIGN_OR_RETURN(std::string e, Member(jwk, "e"));
    Bignum modulus(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr));
    Bignum exponent(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr));
    OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get());
    OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get());
    CK_ASSIGN_OR_RETURN(key, KeyFromParams("RSA", builder.get()));
  } else {
    return Err(Status::Invalid("a JWK's kty must be EC or RSA"));
  }
  const JoseAlgorithm rsa_default = alg && alg->text == "RS256" ? JoseAlgorithm::kRS256 : JoseAlgorithm::kRS384;
  CK_ASSIGN_OR_RETURN(JoseAlgorithm algorithm, AlgorithmOf(key.get(), rsa_default));
  if (alg && alg->text != JoseAlgorithmName(algorithm)) {
    return Err(Status::Invalid("the JWK's alg " + alg->text + " does not fit its key"));
  }
  return JoseKey(key.release(), kid_text, algorithm, false);
}

Result<std::string> JoseKey::Sign(std::string_view data) const {
  if (!has_private_) return Err(Status::Internal("a public key cannot sign"));
  MdContext context(EVP_MD_CTX_new());
  std::size_t size = 0;
  if (!context || EVP_DigestSignInit(context.get(), nullptr, Digest(algorithm_), nullptr, key_) != 1 ||
      EVP_DigestSign(context.get(), nullptr, &size, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return Err(Status::Internal("signing failed"));
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return Err(Status::Internal("signing failed"));
  }
  signature.resize(size);
  if (!IsEc(algorithm_)) return signature;
  // DER (SEQUENCE of two INTEGERs) to JWS's fixed-size R||S.
  const unsigned char* der = reinterpret_cast<const unsigned char*>(signature.data());
  EcdsaSig parsed(d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size())));
  if (!parsed) return Err(Status::Internal("signing failed"));
  const std::size_t half = EcSize(algorithm_);
  std::string out(2 * half, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(parsed.get()), reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(half));
  BN_bn2binpad(ECDSA_SIG_get0_s(parsed.get()), reinterpret_cast<unsigned char*>(out.data()) + half, static_cast<int>(half));
  return out;
}

bool JoseKey::Verify(std::string_view data, std::string_view signature) const {
  std::string der;
  if (IsEc(algorithm_)) {
    const std::size_t half = EcSize(algorithm_);
    if (signature.size() != 2 * half) return false;
    EcdsaSig sig(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()), static_cast<int>(half), nullptr);
    BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()) + half, static_cast<int>(half), nullptr);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
      BN_free(r);
      BN_free(s);
      return false;
    }
    unsigned char* out = nullptr;
    const int length = i2d_ECDSA_SIG(sig.get(), &out);
    if (length <= 0) return false;
    der.assign(reinterpret_cast<const char*>(out), static_cast<std::size_t>(length));
    OPENSSL_free(out);
    signature = der;
  }
  MdContext context(EVP_MD_CTX_new());
  return context && EVP_DigestVerifyInit(context.get(), nullptr, Digest(algorithm_), nullptr, key_) == 1 &&
         EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
}

std::string JoseKey::PrivatePem() const {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key_, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

JsonValue JoseKey::PublicJwk() const {
  JsonValue jwk{JsonValue::Kind::kObject, {}, {}, {}};
  if (IsEc(algorithm_)) {
    const std::size_t size = EcSize(algorithm_);
    jwk.members.emplace_back("kty", Text("EC"));
    jwk.members.emplace_back("crv", Text(CurveName(algorithm_)));
    jwk.members.emplace_back("x", Text(Base64UrlEncode(BignumBytes(key_, OSSL_PKEY_PARAM_EC_PUB_X, size))));
    jwk.members.emplace_back("y", Text(Base64UrlEncode(BignumBytes(key_, OSSL_PKEY_PARAM_EC_PUB_Y, size))));
  } else {
    jwk.members.emplace_back("kty", Text("RSA"));
    jwk.members.emplace_back("n", Text(Base64UrlEncode(BignumBytes(key_, OSSL_PKEY_PARAM_RSA_N))));
    jwk.members.emplace_back("e", Text(Base64UrlEncode(BignumBytes(key_, OSSL_PKEY_PARAM_RSA_E))));
  }
  jwk.members.emplace_back("kid", Text(kid_));
  jwk.members.emplace_back("alg", Text(JoseAlgorithmName(algorithm_)));
  jwk.members.emplace_back("use", Text("sig"));
  return jwk;
}

}  // namespace ck::access
