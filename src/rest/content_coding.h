#pragma once
// Request bodies sent with a Content-Encoding (RFC 9110 8.4): gzip and deflate are decoded,
// within the body limit after decompression too (so a small compressed body cannot expand into
// a huge one); any other coding is refused, never stored as if it were plain.
// Thread safety: pure functions.

#include <cstddef>
#include <string>
#include <string_view>

#include "util/status.h"

namespace ck::rest {

// Decodes `body` per the Content-Encoding header value `codings` (a list, applied in order, so
// undone last to first); empty or "identity" leaves it as is. Errors: kUnsupportedMedia (a coding
// other than gzip, x-gzip, deflate, identity), kInvalid (corrupt compressed data), kTooLarge
// (more than `max_bytes` once decoded).
Status DecodeContentCoding(std::string_view codings, std::size_t max_bytes, std::string& body);

}  // namespace ck::rest
