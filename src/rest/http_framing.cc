#include "rest/http_framing.h"

#include <algorithm>
#include <cctype>

#include "util/text.h"

namespace ck::rest {
namespace {

// The comma-separated elements of every field named `name` (RFC 9110 5.3: several fields of a
// list-valued name are one list), trimmed; empty elements are kept so callers can refuse them.
std::vector<std::string_view> ListElements(const RequestHead& head, std::string_view name, std::size_t& fields) {
  std::vector<std::string_view> out;
  fields = 0;
  for (const auto& [field, value] : head.fields) {
    if (!EqualsIgnoringCase(field, name)) continue;
    ++fields;
    std::string_view rest = value;
    while (true) {
      std::size_t comma = rest.find(',');
      out.push_back(TrimSpaces(rest.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

bool IsUnreservedOrSubDelim(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-._~!$&'()*+,;=%").find(c) != std::string_view::npos;
}

// RFC 9110 7.2: Host = uri-host [ ":" port ], uri-host an IP literal in brackets, or a reg-name
// (which covers IPv4 addresses).
bool IsValidHost(std::string_view host) {
  if (host.empty()) return false;
  std::string_view name = host;
  std::string_view port;
  if (host.front() == '[') {
    std::size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : host.substr(1, close - 1)) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    }
    std::string_view after = host.substr(close + 1);
    if (!after.empty() && after.front() != ':') return false;
    port = after.empty() ? after : after.substr(1);
    if (!after.empty() && port.empty()) return false;
  } else {
    std::size_t colon = host.find(':');
    if (colon != std::string_view::npos) {
      name = host.substr(0, colon);
      port = host.substr(colon + 1);
      if (port.empty()) return false;
    }
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsUnreservedOrSubDelim)) return false;
  }
  return port.size() <= 5 && std::all_of(port.begin(), port.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

FramingDecision Refuse(StatusCode code, std::string message) { return {Status(code, std::move(message)), "", false}; }

// The request-target in origin form (RFC 9112 3.2): origin-form as is; absolute-form reduced to
// its path and query; asterisk- and authority-form are for OPTIONS and CONNECT, which this
// server does not offer. Empty on a target it cannot accept.
std::string OriginForm(std::string_view target) {
  if (target.starts_with('/')) return std::string(target);
  std::size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return "";
  std::string_view scheme = target.substr(0, scheme_end);
  if (!EqualsIgnoringCase(scheme, "http") && !EqualsIgnoringCase(scheme, "https")) return "";
  std::string_view rest = target.substr(scheme_end + 3);
  std::size_t path = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return "";
  if (path == std::string_view::npos) return "/";
  std::string out(rest.substr(path));
  if (out.front() == '?') out.insert(out.begin(), '/');
  return out;
}

}  // namespace

FramingDecision CheckFraming(const RequestHead& head, const FramingLimits& limits) {
  if (head.version != 10 && head.version != 11) return Refuse(StatusCode::kInvalid, "only HTTP/1.0 and HTTP/1.1 are served here");
  if (head.target.size() > limits.max_target_bytes) {
    return Refuse(StatusCode::kUriTooLong, "the URL is longer than " + std::to_string(limits.max_target_bytes) + " bytes");
  }
  if (head.fields.size() > limits.max_header_fields) {
    return Refuse(StatusCode::kHeadersTooLarge, "more than " + std::to_string(limits.max_header_fields) + " header fields");
  }
  for (const auto& [name, value] : head.fields) {
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
      return Refuse(StatusCode::kInvalid, "a header field value holds CR, LF or NUL");
    }
  }
  FramingDecision decision;
  decision.target = OriginForm(head.target);
  if (decision.target.empty()) return Refuse(StatusCode::kInvalid, "the request target must be a path or an http(s) URL");

  // Host (RFC 9112 3.2): exactly one in HTTP/1.1, at most one in HTTP/1.0, and well-formed.
  std::size_t host_fields = 0;
  std::string_view host;
  for (const auto& [name, value] : head.fields) {
    if (EqualsIgnoringCase(name, "host")) {
      ++host_fields;
      host = TrimSpaces(value);
    }
  }
  if (host_fields > 1) return Refuse(StatusCode::kInvalid, "more than one Host header");
  if (host_fields == 0 && head.version == 11) return Refuse(StatusCode::kInvalid, "an HTTP/1.1 request needs a Host header");
  if (host_fields == 1 && !IsValidHost(host)) return Refuse(StatusCode::kInvalid, "the Host header is not a valid host[:port]");

  // Transfer-Encoding (RFC 9112 6.1, 6.3): only chunked, once, last; never with Content-Length;
  // never in HTTP/1.0, whose framing cannot carry it.
  std::size_t te_fields = 0;
  std::vector<std::string_view> codings = ListElements(head, "transfer-encoding", te_fields);
  std::size_t cl_fields = 0;
  std::vector<std::string_view> lengths = ListElements(head, "content-length", cl_fields);
  if (te_fields > 0) {
    if (head.version == 10) return Refuse(StatusCode::kInvalid, "Transfer-Encoding is not allowed in HTTP/1.0");
    if (cl_fields > 0) return Refuse(StatusCode::kInvalid, "a request may not have both Transfer-Encoding and Content-Length");
    if (!EqualsIgnoringCase(codings.back(), "chunked")) {
      return Refuse(StatusCode::kInvalid, "the final transfer coding of a request must be chunked");
    }
    const std::size_t chunked =
        std::count_if(codings.begin(), codings.end(), [](std::string_view c) { return EqualsIgnoringCase(c, "chunked"); });
    if (chunked > 1) return Refuse(StatusCode::kInvalid, "chunked may be applied only once");
    if (codings.size() > 1) {
      return Refuse(StatusCode::kNotImplemented, "transfer coding '" + std::string(codings[0].substr(0, 32)) + "' is not supported");
    }
  }
  // Content-Length (RFC 9110 8.6, RFC 9112 6.3): one value of digits only.
  if (cl_fields > 0) {
    if (lengths.size() != 1) return Refuse(StatusCode::kInvalid, "more than one Content-Length");
    std::string_view length = lengths[0];
    if (length.empty() || length.size() > 18 ||
        !std::all_of(length.begin(), length.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      return Refuse(StatusCode::kInvalid, "Content-Length must be a decimal number");
    }
  }
  // Expect (RFC 9110 10.1.1): 100-continue is answered before the body is read; nothing else
  // can be met.
  std::size_t expect_fields = 0;
  std::vector<std::string_view> expectations = ListElements(head, "expect", expect_fields);
  for (std::string_view expectation : expectations) {
    if (!EqualsIgnoringCase(expectation, "100-continue")) {
      return Refuse(StatusCode::kExpectationFailed, "only 'Expect: 100-continue' is supported");
    }
    decision.expect_continue = head.version == 11;
  }
  return decision;
}

}  // namespace ck::rest
