#include "store/audit_chain.h"

#include <openssl/evp.h>

#include <cstdio>
#include <memory>

namespace ck::store {
namespace {

struct DigestContextFree {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

}  // namespace

// Fed piece by piece into one digest context per thread (verification hashes millions).
std::string AuditChainHash(std::string_view previous, std::int64_t sequence, Millis time, std::string_view content) {
  thread_local std::unique_ptr<EVP_MD_CTX, DigestContextFree> context(EVP_MD_CTX_new());
  char numbers[48];
  const int length = std::snprintf(numbers, sizeof numbers, "\n%lld\n%lld\n", static_cast<long long>(sequence), static_cast<long long>(time));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr);
  EVP_DigestUpdate(context.get(), previous.data(), previous.size());
  EVP_DigestUpdate(context.get(), numbers, static_cast<std::size_t>(length));
  EVP_DigestUpdate(context.get(), content.data(), content.size());
  EVP_DigestFinal_ex(context.get(), digest, &size);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * size, '\0');
  for (unsigned int i = 0; i < size; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 15];
  }
  return hex;
}

std::string AuditSealMessage(SealKind kind, const AuditSeal& seal) {
  return std::string("chartkeeper-audit ") + (kind == SealKind::kCheckpoint ? "checkpoint " : "head ") +
         std::to_string(seal.sequence) + " " + seal.hash + " " + std::to_string(seal.time);
}

}  // namespace ck::store
