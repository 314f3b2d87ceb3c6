#pragma once
// Keys for JSON Web Signatures (RFC 7515/7518), over OpenSSL 3: the server's own ES256 signing
// keys and the public keys of SMART backend services (PEM, or JWK from a JWK Set). Each key is
// bound to one algorithm, fixed when the key is made or read, never taken from a token's header:
// a token naming another algorithm than its key's is refused before any signature check (no
// `alg: none`, no HS256 made with a public key).
// Thread safety: a JoseKey is immutable after construction; Sign and Verify are safe from any
// thread.

#include <memory>
#include <string>
#include <string_view>

#include "util/json_value.h"
#include "util/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace ck::access {

enum class JoseAlgorithm { kES256, kES384, kRS256, kRS384 };
std::string_view JoseAlgorithmName(JoseAlgorithm algorithm);

class JoseKey {
 public:
  // A new P-256 key pair for ES256. Errors: kInternal.
  static Result<JoseKey> GenerateEs256(std::string kid);
  // A private key (PKCS#8 PEM, as PrivatePem writes): EC keys as for FromPublicPem, an RSA key
  // gets `rsa_algorithm`. Errors: kInvalid.
  static Result<JoseKey> FromPrivatePem(std::string_view pem, std::string kid, JoseAlgorithm rsa_algorithm = JoseAlgorithm::kRS256);
  // A public key from PEM: an EC key gets ES256 (P-256) or ES384 (P-384); an RSA key (at least
  // 2048 bits) gets `rsa_algorithm`. Errors: kInvalid.
  static Result<JoseKey> FromPublicPem(std::string_view pem, std::string kid, JoseAlgorithm rsa_algorithm = JoseAlgorithm::kRS384);
  // A public key from a JWK (EC P-256/P-384 or RSA); its `alg`, if given, must fit the key.
  // Errors: kInvalid.
  static Result<JoseKey> FromJwk(const JsonValue& jwk);

  JoseKey(JoseKey&&) noexcept;
  JoseKey& operator=(JoseKey&&) noexcept;
  ~JoseKey();

  const std::string& kid() const { return kid_; }
  JoseAlgorithm algorithm() const { return algorithm_; }
  bool has_private() const { return has_private_; }

  // The signature of `data` as JWS wants it (EC: R||S, each the curve's size). REQUIRES:
  // has_private(). Errors: kInternal.
  Result<std::string> Sign(std::string_view data) const;
  // Whether `signature` (JWS form) is this key's over `data`.
  bool Verify(std::string_view data, std::string_view signature) const;

  // The private key as PKCS#8 PEM (for storage). REQUIRES: has_private().
  std::string PrivatePem() const;
  // The public key as a JWK object (kty, crv/x/y or n/e, kid, alg, use "sig").
  JsonValue PublicJwk() const;

 private:
  JoseKey(EVP_PKEY* key, std::string kid, JoseAlgorithm algorithm, bool has_private);
  EVP_PKEY* key_;
  std::string kid_;
  JoseAlgorithm algorithm_;
  bool has_private_;
};

}  // namespace ck::access
