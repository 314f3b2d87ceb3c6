#pragma once
// How resource bodies are kept on disk, shared by the backends. Every body written carries a
// checksum, so a flipped bit on disk is reported as corruption instead of served as different
// JSON: small or incompressible bodies as plain JSON followed by a CRC-32, the rest as a zstd
// frame (when that saves at least an eighth) with zstd's content checksum. Bodies written by
// earlier versions without a checksum (plain, or zstd without it) are still read.
// Decoding never trusts a size from the stored bytes: output grows only as data decodes, up to
// kMaxStoredBodyBytes.
// Thread safety: pure functions (zstd contexts are per thread).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace ck::store {

// Stored encodings; the numbers are on disk.
enum class BodyEncoding : std::uint8_t {
  kPlain = 0,         // JSON as is (written by earlier versions only)
  kZstd = 1,          // a zstd frame, with or without content checksum (earlier versions)
  kPlainChecked = 2,  // JSON, then its CRC-32 in 4 bytes, little-endian
  kZstdChecked = 3,   // a zstd frame that must carry its content checksum
};

// The largest body a store accepts and decodes (far above the REST limit, 16 MiB by default).
constexpr std::size_t kMaxStoredBodyBytes = std::size_t{256} << 20;

struct EncodedBody {
  BodyEncoding encoding;
  std::string bytes;
};

// REQUIRES: json.size() <= kMaxStoredBodyBytes (the store refuses larger bodies with kTooLarge).
EncodedBody EncodeBody(std::string_view json);
// Errors: kCorrupt for an unknown encoding, a checksum mismatch, bytes that do not decode, or a
// body over kMaxStoredBodyBytes.
Result<std::string> DecodeBody(BodyEncoding encoding, std::string_view bytes);

}  // namespace ck::store
