#pragma once
// Plain HTTP request and response values, so FHIR handlers are tested without sockets and the
// server (rest/http_server.h) is the only code that knows Beast.
// Thread safety: plain values.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"
#include "util/text.h"  // PercentEncode

namespace ck::rest {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // the path as sent (still percent-encoded), without the query: for logs
  // The path's non-empty segments, each percent-decoded after the path was split, so an encoded
  // slash (%2F) stays inside its segment and never changes the route.
  std::vector<std::string> segments;
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string peer;  // remote address, for logs

  // The first header / query parameter with this name, or empty.
  std::string_view Header(std::string_view lower_name) const;
  std::string_view Query(std::string_view name) const;
  bool HasQuery(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // If set, the answer may leave only once something it depends on is durable (the audit
  // records of the request): the server calls it with a continuation, which it may call on any
  // thread; OK sends this answer, an error sends that error instead.
  std::function<void(std::function<void(Status)>)> release;

  HttpResponse& With(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

using QueryParameters = std::vector<std::pair<std::string, std::string>>;

// The decoded parameters of a query string ("identifier=http://x%7C1&name=a"), as ParseTarget
// reads them after '?'; nullopt if the percent-encoding is malformed. (If-None-Exist, conditional
// urls and references, form bodies.)
std::optional<QueryParameters> ParseQuery(std::string_view query);

// A parameter's place in a form's struct: its name and the string member it fills.
template <class Form>
using FormField = std::pair<std::string_view, std::string Form::*>;

// Fills the members of `out` that `fields` name from `parameters`; others are ignored. Returns
// the name of a parameter given twice (then `out` is incomplete), or nullopt.
template <class Form, std::size_t N>
std::optional<std::string> FillForm(const QueryParameters& parameters, const FormField<Form> (&fields)[N], Form& out) {
  std::vector<std::string_view> seen;
  for (const auto& [name, value] : parameters) {
    for (std::string_view earlier : seen) {
      if (earlier == name) return name;
    }
    seen.push_back(name);
    for (const auto& [field, member] : fields) {
      if (name == field) out.*member = value;
    }
  }
  return std::nullopt;
}

// Splits an origin-form request target ("/fhir/Patient?name=a%20b") into request.path,
// request.segments and request.query. Returns false if the percent-encoding is malformed.
bool ParseTarget(std::string_view target, HttpRequest& request);

}  // namespace ck::rest
