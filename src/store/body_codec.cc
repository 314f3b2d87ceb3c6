#include "store/body_codec.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>

namespace ck::store {
namespace {

constexpr std::size_t kMinCompressedSize = 256;
constexpr int kZstdLevel = 3;
constexpr std::size_t kCrcBytes = 4;

// zstd contexts are costly to create relative to a 1 KB body: keep one per thread.
struct ZstdContexts {
  ZSTD_CCtx* compress = ZSTD_createCCtx();
  ZSTD_DCtx* decompress = ZSTD_createDCtx();
  ZstdContexts() {
    ZSTD_CCtx_setParameter(compress, ZSTD_c_compressionLevel, kZstdLevel);
    ZSTD_CCtx_setParameter(compress, ZSTD_c_checksumFlag, 1);
  }
  ~ZstdContexts() {
    ZSTD_freeCCtx(compress);
    ZSTD_freeDCtx(decompress);
  }
};
ZstdContexts& ThreadContexts() {
  thread_local ZstdContexts contexts;
  return contexts;
}

Status Corrupt(std::string detail) {
  return Status(StatusCode::kCorrupt, "a stored resource body is corrupt").WithDetail(std::move(detail));
}

std::uint32_t Crc32(std::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes the length as uInt: feed large bodies in pieces.
  while (!bytes.empty()) {
    std::size_t piece = std::min<std::size_t>(bytes.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(piece));
    bytes.remove_prefix(piece);
  }
  return static_cast<std::uint32_t>(crc);
}

EncodedBody PlainChecked(std::string_view json) {
  std::string out(json);
  std::uint32_t crc = Crc32(json);
  for (std::size_t i = 0; i < kCrcBytes; ++i) out += static_cast<char>((crc >> (8 * i)) & 0xFF);
  return {BodyEncoding::kPlainChecked, std::move(out)};
}

Result<std::string> DecodePlainChecked(std::string_view bytes) {
  if (bytes.size() < kCrcBytes) return Err(Corrupt("plain body shorter than its checksum"));
  std::string_view json = bytes.substr(0, bytes.size() - kCrcBytes);
  std::uint32_t stored = 0;
  for (std::size_t i = 0; i < kCrcBytes; ++i) {
    stored |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[json.size() + i])) << (8 * i);
  }
  if (stored != Crc32(json)) return Err(Corrupt("CRC-32 mismatch"));
  return std::string(json);
}

// Decodes one zstd frame. The frame's declared size is only an upper bound checked against the
// limit: the output grows as data actually decodes, so a corrupted header cannot make us
// allocate what the bytes do not back.
Result<std::string> DecodeZstd(std::string_view bytes, bool require_checksum) {
  unsigned long long declared = ZSTD_getFrameContentSize(bytes.data(), bytes.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR || declared == ZSTD_CONTENTSIZE_UNKNOWN) return Err(Corrupt("bad zstd frame header"));
  if (declared > kMaxStoredBodyBytes) return Err(Corrupt("zstd frame declares " + std::to_string(declared) + " bytes"));
  // RFC 8878 3.1.1.1.1: after the 4-byte magic number, the frame header descriptor's bit 2 is
  // the content checksum flag (ZSTD_getFrameContentSize above checked there is a header).
  if (require_checksum && (static_cast<unsigned char>(bytes[4]) & 0x04) == 0) {
    return Err(Corrupt("zstd frame without its checksum"));
  }
  ZSTD_DCtx* context = ThreadContexts().decompress;
  ZSTD_DCtx_reset(context, ZSTD_reset_session_only);
  std::string out(std::min<std::size_t>(declared, bytes.size() * 16 + 4096), '\0');
  ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
  ZSTD_outBuffer output{out.data(), out.size(), 0};
  while (true) {
    std::size_t result = ZSTD_decompressStream(context, &output, &in);
    if (ZSTD_isError(result)) return Err(Corrupt(ZSTD_getErrorName(result)));
    if (result == 0) break;  // the frame is complete (and its checksum verified)
    if (output.pos < output.size) {
      if (in.pos == in.size) return Err(Corrupt("truncated zstd frame"));
      continue;
    }
    if (out.size() == declared) return Err(Corrupt("zstd frame larger than it declares"));
    out.resize(std::min<std::size_t>(declared, out.size() * 2));
    output = {out.data(), out.size(), output.pos};
  }
  if (in.pos != in.size || output.pos != declared) return Err(Corrupt("zstd frame size mismatch"));
  out.resize(output.pos);
  return out;
}

}  // namespace

EncodedBody EncodeBody(std::string_view json) {
  if (json.size() < kMinCompressedSize) return PlainChecked(json);
  std::string out(ZSTD_compressBound(json.size()), '\0');
  std::size_t size = ZSTD_compress2(ThreadContexts().compress, out.data(), out.size(), json.data(), json.size());
  if (ZSTD_isError(size) || size > json.size() - json.size() / 8) return PlainChecked(json);
  out.resize(size);
  return {BodyEncoding::kZstdChecked, std::move(out)};
}

Result<std::string> DecodeBody(BodyEncoding encoding, std::string_view bytes) {
  switch (encoding) {
    case BodyEncoding::kPlain: return std::string(bytes);
    case BodyEncoding::kPlainChecked: return DecodePlainChecked(bytes);
    case BodyEncoding::kZstd: return DecodeZstd(bytes, false);
    case BodyEncoding::kZstdChecked: return DecodeZstd(bytes, true);
  }
  return Err(Corrupt("unknown body encoding " + std::to_string(static_cast<int>(encoding))));
}

}  // namespace ck::store
