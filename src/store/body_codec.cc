#include "store/body_codec.h"

#include <zstd.h>

namespace ck::store {
namespace {
constexpr std::size_t kMinCompressedSize = 256;
constexpr int kZstdLevel = 3;

// zstd contexts are costly to create relative to a 1 KB body: keep one per thread.
struct ZstdContexts {
  ZSTD_CCtx* compress = ZSTD_createCCtx();
  ZSTD_DCtx* decompress = ZSTD_createDCtx();
  ~ZstdContexts() {
    ZSTD_freeCCtx(compress);
    ZSTD_freeDCtx(decompress);
  }
};
ZstdContexts& ThreadContexts() {
  thread_local ZstdContexts contexts;
  return contexts;
}
}  // namespace

EncodedBody EncodeBody(std::string_view json) {
  if (json.size() < kMinCompressedSize) return {BodyEncoding::kPlain, std::string(json)};
  std::string out(ZSTD_compressBound(json.size()), '\0');
  std::size_t size = ZSTD_compressCCtx(ThreadContexts().compress, out.data(), out.size(), json.data(), json.size(), kZstdLevel);
  if (ZSTD_isError(size) || size > json.size() - json.size() / 8) return {BodyEncoding::kPlain, std::string(json)};
  out.resize(size);
  return {BodyEncoding::kZstd, std::move(out)};
}

Result<std::string> DecodeBody(BodyEncoding encoding, std::string_view bytes) {
  if (encoding == BodyEncoding::kPlain) return std::string(bytes);
  if (encoding != BodyEncoding::kZstd) return Err(Status::Internal("corrupt stored body").WithDetail("unknown encoding"));
  unsigned long long size = ZSTD_getFrameContentSize(bytes.data(), bytes.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1ull << 31)) {
    return Err(Status::Internal("corrupt stored body").WithDetail("bad zstd frame header"));
  }
  std::string out(size, '\0');
  std::size_t got = ZSTD_decompressDCtx(ThreadContexts().decompress, out.data(), out.size(), bytes.data(), bytes.size());
  if (ZSTD_isError(got) || got != size) {
    return Err(Status::Internal("corrupt stored body").WithDetail(ZSTD_getErrorName(got)));
  }
  return out;
}

}  // namespace ck::store
