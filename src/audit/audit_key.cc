#include "audit/audit_key.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "util/key_file.h"

namespace ck::audit {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
struct MdContextFree {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

bool IsEd25519(EVP_PKEY* key) { return key != nullptr && EVP_PKEY_get_id(key) == EVP_PKEY_ED25519; }

Result<Pkey> ReadPrivateKey(const std::filesystem::path& file) {
  CK_ASSIGN_OR_RETURN(const std::string pem, ReadKeyFile(file, "the audit key file"));
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!IsEd25519(key.get())) return Err(Status::Invalid("the audit key file " + file.string() + " does not hold an Ed25519 private key"));
  return key;
}

Result<Pkey> CreatePrivateKey(const std::filesystem::path& file) {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key) return Err(Status::Internal("cannot make an Ed25519 key"));
  Bio bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Err(Status::Internal("cannot encode the audit key"));
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  CK_RETURN_IF_ERROR(CreateKeyFile(file, std::string_view(data, static_cast<std::size_t>(size)), "the audit key file"));
  return key;
}

}  // namespace

struct AuditKey::Key {
  Pkey key;
};
struct AuditKeyCheck::Key {
  Pkey key;
};

AuditKey::AuditKey(std::unique_ptr<Key> key) : key_(std::move(key)) {}
AuditKey::~AuditKey() = default;
AuditKeyCheck::AuditKeyCheck(std::unique_ptr<Key> key) : key_(std::move(key)) {}
AuditKeyCheck::~AuditKeyCheck() = default;

Result<std::unique_ptr<AuditKey>> AuditKey::LoadOrCreate(const std::filesystem::path& file, const std::filesystem::path& data_dir) {
  if (IsInside(file, data_dir)) {
    return Err(Status::Invalid("the audit key file " + file.string() + " must be kept outside the data folder " + data_dir.string()));
  }
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) return Load(file);
  CK_ASSIGN_OR_RETURN(Pkey key, CreatePrivateKey(file));
  return std::unique_ptr<AuditKey>(new AuditKey(std::make_unique<Key>(Key{std::move(key)})));
}

Result<std::unique_ptr<AuditKey>> AuditKey::Load(const std::filesystem::path& file) {
  CK_ASSIGN_OR_RETURN(Pkey key, ReadPrivateKey(file));
  return std::unique_ptr<AuditKey>(new AuditKey(std::make_unique<Key>(Key{std::move(key)})));
}

Result<std::string> AuditKey::Sign(std::string_view message) const {
  std::unique_ptr<EVP_MD_CTX, MdContextFree> context(EVP_MD_CTX_new());
  std::string signature(64, '\0');
  std::size_t length = signature.size();
  if (!context || EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr, key_->key.get()) != 1 ||
      EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return Err(Status::Internal("cannot sign with the audit key"));
  }
  signature.resize(length);
  return signature;
}

std::string AuditKey::PublicKeyPem() const {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key_->key.get());
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

Result<std::unique_ptr<AuditKeyCheck>> AuditKeyCheck::FromPem(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Pkey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!IsEd25519(key.get())) return Err(Status::Invalid("not an Ed25519 public key in PEM"));
  return std::unique_ptr<AuditKeyCheck>(new AuditKeyCheck(std::make_unique<Key>(Key{std::move(key)})));
}

bool AuditKeyCheck::Verify(std::string_view message, std::string_view signature) const {
  std::unique_ptr<EVP_MD_CTX, MdContextFree> context(EVP_MD_CTX_new());
  return context && EVP_DigestVerifyInit(context.get(), nullptr, nullptr, nullptr, key_->key.get()) == 1 &&
         EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

}  // namespace ck::audit
