#pragma once
// How resource bodies are kept on disk: plain JSON, or zstd-compressed JSON when that saves at
// least an eighth (small bodies stay plain: compression would not pay). Shared by the backends.
// Thread safety: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace ck::store {

enum class BodyEncoding : std::uint8_t { kPlain = 0, kZstd = 1 };

struct EncodedBody {
  BodyEncoding encoding;
  std::string bytes;
};

EncodedBody EncodeBody(std::string_view json);
// Errors: kInternal for an unknown encoding or corrupt compressed bytes.
Result<std::string> DecodeBody(BodyEncoding encoding, std::string_view bytes);

}  // namespace ck::store
