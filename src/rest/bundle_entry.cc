#include "rest/bundle_entry.h"

#include "fhir/json_writer.h"
#include "records/resource_patch.h"
#include "util/random_id.h"
#include "util/time.h"

namespace ck::rest {
namespace {

std::string_view HeaderOf(const HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return {};
}

// "201 Created": FHIR asks for the code first; the phrase is for people.
std::string StatusLine(int status) {
  const char* phrase = "";
  switch (status) {
    case 200: phrase = " OK"; break;
    case 201: phrase = " Created"; break;
    case 204: phrase = " No Content"; break;
    case 304: phrase = " Not Modified"; break;
    case 400: phrase = " Bad Request"; break;
    case 403: phrase = " Forbidden"; break;
    case 404: phrase = " Not Found"; break;
    case 405: phrase = " Method Not Allowed"; break;
    case 409: phrase = " Conflict"; break;
    case 410: phrase = " Gone"; break;
    case 412: phrase = " Precondition Failed"; break;
    case 413: phrase = " Content Too Large"; break;
    case 415: phrase = " Unsupported Media Type"; break;
    case 422: phrase = " Unprocessable Content"; break;
    case 500: phrase = " Internal Server Error"; break;
    case 501: phrase = " Not Implemented"; break;
    case 503: phrase = " Service Unavailable"; break;
    default: break;
  }
  return std::to_string(status) + phrase;
}

}  // namespace

Result<HttpRequest> EntryRequest(const records::PlannedEntry& entry, const HttpRequest& outer) {
  static constexpr const char* kMethods[] = {"DELETE", "POST", "PUT", "PATCH", "GET", "HEAD"};
  HttpRequest request;
  request.method = kMethods[static_cast<int>(entry.method)];
  // A create's id is the one the plan gave it, not part of its url.
  std::string target = "/fhir/" + entry.type;
  if (!entry.id.empty() && entry.method != records::EntryMethod::kPost) target += "/" + entry.id;
  if (!entry.query.empty()) target += "?" + entry.query;
  if (!ParseTarget(target, request)) return Err(Status::Invalid("request.url '" + entry.url.substr(0, 100) + "' has a malformed escape"));
  request.peer = outer.peer;
  for (auto [name, value] : {std::pair{"if-match", &entry.if_match}, std::pair{"if-none-match", &entry.if_none_match},
                             std::pair{"if-none-exist", &entry.if_none_exist}, std::pair{"if-modified-since", &entry.if_modified_since}}) {
    if (!value->empty()) request.headers.emplace_back(name, *value);
  }
  if (std::string_view prefer = outer.Header("prefer"); !prefer.empty()) request.headers.emplace_back("prefer", std::string(prefer));
  std::string content_type = "application/fhir+json";
  if (entry.resource && entry.method == records::EntryMethod::kPatch) {
    CK_ASSIGN_OR_RETURN(records::ResourcePatch patch, records::PatchFromResource(*entry.resource));
    if (patch.format == records::PatchFormat::kJsonPatch) content_type = records::kJsonPatchMediaType;
    request.body = std::move(patch.body);
  } else if (entry.resource) {
    request.body = fhir::WriteJson(entry.resource->root());
  }
  request.headers.emplace_back("content-type", std::move(content_type));
  return request;
}

std::string ResponseEntryJson(const HttpResponse& response, std::optional<Millis> last_modified) {
  std::string out = "{";
  const bool outcome = response.status >= 400 || response.body.starts_with(R"({"resourceType":"OperationOutcome")");
  if (!response.body.empty() && !outcome) out += R"("resource":)" + response.body + ",";
  out += R"("response":{"status":)";
  fhir::AppendJsonString(out, StatusLine(response.status));
  if (std::string_view location = HeaderOf(response, "Location"); !location.empty()) {
    out += R"(,"location":)";
    fhir::AppendJsonString(out, location);
  }
  if (std::string_view etag = HeaderOf(response, "ETag"); !etag.empty()) {
    out += R"(,"etag":)";
    fhir::AppendJsonString(out, etag);
  }
  if (std::optional<Millis> modified = last_modified ? last_modified : ParseHttpDate(HeaderOf(response, "Last-Modified"))) {
    out += R"(,"lastModified":)";
    fhir::AppendJsonString(out, FormatInstant(*modified));
  }
  if (!response.body.empty() && outcome) out += R"(,"outcome":)" + response.body;
  return out + "}}";
}

std::string ResponseBundleJson(std::string_view type, const std::vector<std::string>& entries) {
  std::string out = R"({"resourceType":"Bundle","id":")" + RandomUuid() + R"(","type":")" + std::string(type) + R"(","entry":[)";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out += ',';
    out += entries[i];
  }
  return out + "]}";
}

}  // namespace ck::rest
