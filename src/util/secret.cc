#include "util/secret.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace ck {

// Pages of its own (anonymous memory, so zeroed), so that locking and the dump exclusion cover the key and nothing else.
Result<std::unique_ptr<Secret>> Secret::Zeroed(std::size_t size) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t mapped = (std::max<std::size_t>(size, 1) + page - 1) / page * page;
  void* data = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (data == MAP_FAILED) return Err(Status::Internal("cannot allocate memory for a key"));
  (void)::madvise(data, mapped, MADV_DONTDUMP);
  const bool locked = ::mlock(data, mapped) == 0;
  return std::unique_ptr<Secret>(new Secret(data, size, mapped, locked));
}

Result<std::unique_ptr<Secret>> Secret::Random(std::size_t size) {
  CK_ASSIGN_OR_RETURN(std::unique_ptr<Secret> secret, Zeroed(size));
  if (size > 0 && RAND_bytes(static_cast<unsigned char*>(secret->data_), static_cast<int>(size)) != 1) {
    return Err(Status::Internal("the system's random number generator failed"));
  }
  return secret;
}

Result<std::unique_ptr<Secret>> Secret::Copy(std::string_view bytes) {
  CK_ASSIGN_OR_RETURN(std::unique_ptr<Secret> secret, Zeroed(bytes.size()));
  if (!bytes.empty()) std::memcpy(secret->data_, bytes.data(), bytes.size());
  return secret;
}

Secret::~Secret() {
  OPENSSL_cleanse(data_, mapped_);
  if (locked_) (void)::munlock(data_, mapped_);
  (void)::munmap(data_, mapped_);
}

}  // namespace ck
