#pragma once
// Key material in memory: a fixed-size buffer locked into RAM (mlock: never swapped out),
// excluded from core dumps (madvise MADV_DONTDUMP) and wiped (OPENSSL_cleanse) when freed.
// Not copyable, so a key exists once. Where the platform refuses the lock (RLIMIT_MEMLOCK) the
// key still works; `locked()` says so and the server logs it.
// Thread safety: immutable after construction; reads are safe from any thread.

#include <cstddef>
#include <memory>
#include <string_view>

#include "util/status.h"

namespace ck {

class Secret {
 public:
  // `size` zero bytes, to be filled through mutable_data() while the key is made. Errors:
  // kInternal (no memory).
  static Result<std::unique_ptr<Secret>> Zeroed(std::size_t size);
  // `size` bytes from the CSPRNG. Errors: kInternal (no memory, no randomness).
  static Result<std::unique_ptr<Secret>> Random(std::size_t size);
  // A copy of `bytes` (the caller wipes its own copy). Errors: kInternal (no memory).
  static Result<std::unique_ptr<Secret>> Copy(std::string_view bytes);
  ~Secret();
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;

  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }
  const unsigned char* data() const { return static_cast<const unsigned char*>(data_); }
  unsigned char* mutable_data() { return static_cast<unsigned char*>(data_); }
  std::size_t size() const { return size_; }
  bool locked() const { return locked_; }

 private:
  Secret(void* data, std::size_t size, std::size_t mapped, bool locked) : data_(data), size_(size), mapped_(mapped), locked_(locked) {}
  void* data_;
  std::size_t size_;
  std::size_t mapped_;
  bool locked_;
};

}  // namespace ck
