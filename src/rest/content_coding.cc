#include "rest/content_coding.h"

#include <zlib.h>

#include <algorithm>
#include <vector>

#include "util/text.h"

namespace ck::rest {
namespace {

Status TooLarge(std::size_t max_bytes) {
  return Status(StatusCode::kTooLarge, "the request body is larger than " + std::to_string(max_bytes) + " bytes once decompressed");
}

// Inflates `in` with zlib: window_bits 15 + 32 reads gzip or zlib framing, -15 raw deflate.
Status Inflate(std::string_view in, int window_bits, std::size_t max_bytes, std::string& out) {
  z_stream stream{};
  if (inflateInit2(&stream, window_bits) != Z_OK) return Status::Internal("cannot start zlib");
  struct End {
    z_stream& s;
    ~End() { inflateEnd(&s); }
  } end{stream};
  out.clear();
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  stream.avail_in = static_cast<uInt>(in.size());
  char chunk[64 * 1024];
  while (true) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk);
    stream.avail_out = sizeof chunk;
    int rc = inflate(&stream, Z_NO_FLUSH);
    std::size_t produced = sizeof chunk - stream.avail_out;
    if (out.size() + produced > max_bytes) return TooLarge(max_bytes);
    out.append(chunk, produced);
    if (rc == Z_STREAM_END) {
      if (stream.avail_in != 0) return Status::Invalid("data after the end of the compressed request body");
      return Status::Ok();
    }
    if (rc != Z_OK || (produced == 0 && stream.avail_in == 0)) {
      return Status::Invalid("the request body is not valid compressed data for its Content-Encoding");
    }
  }
}

}  // namespace

Status DecodeContentCoding(std::string_view codings, std::size_t max_bytes, std::string& body) {
  std::vector<std::string> list;
  while (!codings.empty()) {
    std::size_t comma = codings.find(',');
    std::string coding = ToLowerAscii(TrimSpaces(codings.substr(0, comma)));
    codings = comma == std::string_view::npos ? std::string_view() : codings.substr(comma + 1);
    if (!coding.empty() && coding != "identity") list.push_back(std::move(coding));
  }
  for (const std::string& coding : list) {
    if (coding != "gzip" && coding != "x-gzip" && coding != "deflate") {
      return Status(StatusCode::kUnsupportedMedia,
                    "Content-Encoding '" + coding.substr(0, 32) + "' is not supported; send gzip, deflate or no coding");
    }
  }
  std::string decoded;
  for (auto it = list.rbegin(); it != list.rend(); ++it) {
    Status status = Inflate(body, 15 + 32, max_bytes, decoded);
    // "deflate" means zlib framing (RFC 9110 8.4.1.2), but some clients send raw deflate.
    if (!status.ok() && *it == "deflate" && status.code() == StatusCode::kInvalid) status = Inflate(body, -15, max_bytes, decoded);
    if (!status.ok()) return status;
    body.swap(decoded);
  }
  return Status::Ok();
}

}  // namespace ck::rest
