#pragma once
// The audit key: an Ed25519 key pair that signs the audit trail's checkpoints and head
// (store/audit_chain.h). The private key is a PKCS#8 PEM file kept outside the data folder
// (whoever can rewrite the database must not also hold the key that vouches for it); the
// public key is what `chartkeeper audit verify` and a third party check the seals with.
// Thread safety: immutable once loaded; Sign and Verify may run on any thread.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

namespace ck::audit {

class AuditKey {
 public:
  // Loads the private key file, or creates it (mode 0600, its folder made if missing) when
  // absent. Errors: kInvalid (group- or world-readable, not an Ed25519 PEM key, inside
  // `data_dir`), kInternal (cannot write it).
  static Result<std::unique_ptr<AuditKey>> LoadOrCreate(const std::filesystem::path& file, const std::filesystem::path& data_dir);
  // Loads an existing private key file. Errors: kNotFound, kInvalid as above.
  static Result<std::unique_ptr<AuditKey>> Load(const std::filesystem::path& file);
  ~AuditKey();

  // The Ed25519 signature (64 bytes) of `message`. Errors: kInternal.
  Result<std::string> Sign(std::string_view message) const;
  // The public key as a SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").
  std::string PublicKeyPem() const;

 private:
  struct Key;
  explicit AuditKey(std::unique_ptr<Key> key);
  std::unique_ptr<Key> key_;
};

// Checks seals with a public key alone (from AuditKey::PublicKeyPem or a file).
class AuditKeyCheck {
 public:
  // Errors: kInvalid (not an Ed25519 public key PEM).
  static Result<std::unique_ptr<AuditKeyCheck>> FromPem(std::string_view pem);
  ~AuditKeyCheck();
  bool Verify(std::string_view message, std::string_view signature) const;

 private:
  struct Key;
  explicit AuditKeyCheck(std::unique_ptr<Key> key);
  std::unique_ptr<Key> key_;
};

}  // namespace ck::audit
