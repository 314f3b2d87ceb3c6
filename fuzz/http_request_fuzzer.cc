// libFuzzer target: a request as it arrives on a socket, through everything the server applies
// before a handler sees it: Beast's parser (head and body limits as served), the framing rules,
// target splitting and percent-decoding, and Content-Encoding decoding.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rest/content_coding.h"
#include "rest/http_framing.h"
#include "rest/http_message.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace http = boost::beast::http;
  using namespace ck::rest;
  http::request_parser<http::string_body> parser;
  parser.header_limit(64 << 10);
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!parser.is_header_done()) return 0;
  const auto& head = parser.get();
  RequestHead plain{head.method_string(), head.target(), head.version(), {}};
  for (const auto& field : head) plain.fields.emplace_back(field.name_string(), field.value());
  FramingDecision framing = CheckFraming(plain, {});
  if (!framing.status.ok()) return 0;
  HttpRequest request;
  if (!ParseTarget(framing.target, request)) return 0;
  if (!parser.is_done()) return 0;
  std::string body = parser.get().body();
  (void)DecodeContentCoding(head[http::field::content_encoding], 1 << 20, body);
  if (body.size() > (1u << 20)) __builtin_trap();  // the limit holds after decoding too
  return 0;
}
