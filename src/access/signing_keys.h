#pragma once
// The server's token-signing keys: ES256 key pairs kept in the store (state values
// "access/signing-key/<kid>", the private key as PKCS#8 PEM, protected with the rest of the
// database by encryption at rest). One key signs; a new one is made when it is older than the
// rotation period, and a retired key's public half is still served (JWKS) and accepted until
// every token it signed has expired, then it is deleted.
// Thread safety: safe from any thread (a mutex guards the loaded keys).

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "access/jose_key.h"
#include "store/resource_store.h"
#include "util/json_value.h"
#include "util/time.h"

namespace ck::access {

struct SigningKeyOptions {
  Millis rotation = 30LL * 24 * 3600 * 1000;  // a key signs for 30 days
  Millis max_token_lifetime = 24LL * 3600 * 1000;  // the longest a token it signs may live
};

class SigningKeys {
 public:
  // REQUIRES: store and clock outlive this object.
  SigningKeys(store::ResourceStore& store, const Clock& clock, SigningKeyOptions options = {});

  // The key to sign with now: the newest, or a new one when there is none or it is older than
  // the rotation period (then stored before use). Errors: the store's, kCorrupt for an
  // unreadable stored key.
  Result<std::shared_ptr<const JoseKey>> Current();
  // The key with id `kid` that may still verify tokens, or nullptr.
  std::shared_ptr<const JoseKey> Find(std::string_view kid);
  // {"keys": [...]}: the public keys that may still verify tokens.
  JsonValue Jwks();

 private:
  struct Held {
    std::shared_ptr<const JoseKey> key;
    Millis created;
  };
  Status LoadLocked();
  Status ForgetExpiredLocked(Millis now);

  store::ResourceStore& store_;
  const Clock& clock_;
  const SigningKeyOptions options_;
  std::mutex mu_;
  bool loaded_ = false;       // guarded by mu_
  std::vector<Held> keys_;    // guarded by mu_, oldest first
};

}  // namespace ck::access
