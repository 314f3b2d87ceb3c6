#include "rest/fhir_api.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <optional>

#include "fhir/json_writer.h"
#include "fhir/resource_subset.h"
#include "audit/syslog_forwarder.h"
#include "records/quality_report.h"
#include "records/bundle_plan.h"
#include "rest/auth_api.h"
#include "rest/break_glass_api.h"
#include "rest/login_page.h"
#include "rest/bundle_entry.h"
#include "rest/capability_statement.h"
#include "rest/history_bundle.h"
#include "rest/search_bundle.h"
#include "rest/operation_outcome.h"
#include "util/log.h"
#include "util/text.h"

namespace ck::rest {
namespace {

constexpr std::string_view kFhirPrefix = "fhir";

enum class Prefer { kRepresentation, kMinimal, kOperationOutcome };

// The media type of a header value without parameters, lower-cased: "application/fhir+json".
std::string MediaType(std::string_view value) { return ToLowerAscii(TrimSpaces(value.substr(0, value.find(';')))); }

bool IsJsonMediaType(std::string_view media) {
  return media == "application/fhir+json" || media == "application/json" || media == "application/json+fhir";
}

// Whether the client accepts FHIR JSON, per _format (which wins) or Accept.
bool AcceptsJson(const HttpRequest& request) {
  if (request.HasQuery("_format")) {
    std::string format = MediaType(request.Query("_format"));
    return format == "json" || IsJsonMediaType(format);
  }
  std::string_view accept = request.Header("accept");
  if (TrimSpaces(accept).empty()) return true;
  while (!accept.empty()) {
    std::size_t comma = accept.find(',');
    std::string media = MediaType(accept.substr(0, comma));
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    if (IsJsonMediaType(media) || media == "*/*" || media == "application/*") return true;
  }
  return false;
}

// Whether a request body is declared as JSON in UTF-8 (the only charset FHIR JSON allows).
bool BodyIsJson(const HttpRequest& request) {
  std::string_view content_type = request.Header("content-type");
  if (!IsJsonMediaType(MediaType(content_type))) return false;
  std::string params = ToLowerAscii(content_type);
  std::size_t charset = params.find("charset=");
  if (charset == std::string::npos) return true;
  std::string_view value = TrimSpaces(std::string_view(params).substr(charset + 8));
  value = value.substr(0, value.find(';'));
  return TrimSpaces(value) == "utf-8" || TrimSpaces(value) == "\"utf-8\"";
}

Prefer PreferOf(const HttpRequest& request) {
  std::string prefer = ToLowerAscii(request.Header("prefer"));
  if (prefer.find("return=minimal") != std::string::npos) return Prefer::kMinimal;
  if (prefer.find("return=operationoutcome") != std::string::npos) return Prefer::kOperationOutcome;
  return Prefer::kRepresentation;
}

std::optional<std::int64_t> ParseNonNegative(std::string_view text) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0 || text.empty()) return std::nullopt;
  return value;
}

// `W/"3"` or `"3"` to 3.
std::optional<std::int64_t> ParseEtag(std::string_view etag) {
  etag = TrimSpaces(etag);
  if (etag.starts_with("W/") || etag.starts_with("w/")) etag.remove_prefix(2);
  if (etag.size() < 3 || etag.front() != '"' || etag.back() != '"') return std::nullopt;
  return ParseNonNegative(etag.substr(1, etag.size() - 2));
}

// The version an If-Match header (or a Bundle entry's ifMatch) names, if any.
// Errors: kInvalid (not an ETag).
Result<std::optional<std::int64_t>> IfMatch(std::string_view etag, std::string_view name = "If-Match") {
  if (etag.empty()) return std::optional<std::int64_t>();
  std::optional<std::int64_t> version = ParseEtag(etag);
  if (!version) return Err(Status::Invalid(std::string(name) + " must be an ETag like W/\"3\""));
  return version;
}

// A PATCH body: JSON Patch (application/json-patch+json) or FHIRPath Patch (a Parameters
// resource as FHIR JSON). Errors: kUnsupportedMedia.
Result<records::ResourcePatch> PatchBody(const HttpRequest& request) {
  if (MediaType(request.Header("content-type")) == records::kJsonPatchMediaType) {
    return records::ResourcePatch{records::PatchFormat::kJsonPatch, request.body};
  }
  if (BodyIsJson(request)) return records::ResourcePatch{records::PatchFormat::kFhirPathPatch, request.body};
  return Err(Status(StatusCode::kUnsupportedMedia, "send a JSON Patch as " + std::string(records::kJsonPatchMediaType) +
                                                       ", or a FHIRPath Patch (a Parameters resource) as application/fhir+json"));
}

// The FHIR restful-interaction code an audit record names for one of this API's interaction
// names ("conditional-update" is an update; "search-compartment" a type search).
std::string RestfulSubtype(std::string_view interaction) {
  if (interaction == "conditional-update") return "update";
  if (interaction == "conditional-delete") return "delete";
  if (interaction == "conditional-patch") return "patch";
  if (interaction == "search-compartment") return "search-type";
  if (interaction == "validate" || interaction == "quality-report" || interaction == "disclosures" || interaction == "everything" ||
      interaction == "reindex") {
    return "operation";
  }
  return std::string(interaction);
}

char ActionOf(std::string_view method) {
  if (method == "POST") return 'C';
  if (method == "PUT" || method == "PATCH") return 'U';
  if (method == "DELETE") return 'D';
  return 'R';
}

HttpResponse MethodNotAllowed(std::string_view allow) {
  HttpResponse response = ErrorResponse(Status(StatusCode::kMethodNotAllowed, "method not allowed here; allowed: " + std::string(allow)));
  response.With("Allow", std::string(allow));
  return response;
}

// The subset a read's `_summary` (true, text, data, false) and `_elements` (element names,
// comma-separated; unknown ones match nothing) ask for. Errors: kInvalid.
Result<fhir::Subset> ReadSubset(const std::vector<std::pair<std::string, std::string>>& query) {
  fhir::Subset subset;
  bool summary = false;
  bool elements = false;
  for (const auto& [name, value] : query) {
    if (name == "_summary") {
      std::optional<fhir::Subset::Mode> mode = fhir::SummaryMode(value);
      if (!mode) return Err(Status::Invalid("_summary: a read takes true, text, data or false"));
      subset.mode = *mode;
      summary = true;
    } else if (name == "_elements") {
      subset.mode = fhir::Subset::Mode::kElements;
      std::optional<std::vector<std::string>> names = fhir::ElementNames(value);
      if (!names) return Err(Status::Invalid("_elements: an empty element name"));
      subset.elements = std::move(*names);
      elements = true;
    }
  }
  if (summary && elements) return Err(Status::Invalid("_summary and _elements cannot be used together"));
  return subset;
}

}  // namespace

struct FhirApi::Call {
  const HttpRequest& request;
  records::RequestContext context;
  std::shared_ptr<const access::TokenGuard> guard;  // the verified caller; context.guard points at it
  std::string_view interaction = "unknown";  // always a string literal
  bool pretty = false;
  bool inline_only = false;  // answer only what needs no database (on an I/O thread)
  bool deferred = false;     // set when an inline-only call needs the database after all
  bool emergency = false;    // made under emergency access (break the glass): marked in the log
};

FhirApi::FhirApi(records::RecordService& records, const fhir::Definitions& definitions, store::ResourceStore& store,
                 FhirApiOptions options)
    : records_(records),
      audit_api_{records, store, options.base_url, options.default_page_size, options.max_page_size, options.disclosure_exclusions},
      definitions_(definitions),
      store_(store),
      options_(std::move(options)),
      started_(SystemClock().Now()) {}

std::shared_ptr<const std::string> FhirApi::CapabilityStatement() {
  std::shared_ptr<const search::ParameterSet> in_force = records_.search_parameters().InForce();
  std::lock_guard lock(capability_mutex_);
  if (!capability_statement_ || capability_generation_ != in_force->generation) {
    capability_statement_ = std::make_shared<const std::string>(
        CapabilityStatementJson(definitions_, options_.base_url, started_,
                                {.multiple_deletes = records_.options().max_conditional_deletes > 1,
                                 .referential_integrity = options_.referential_integrity},
                                *in_force));
    capability_generation_ = in_force->generation;
  }
  return capability_statement_;
}

HttpResponse FhirApi::Handle(const HttpRequest& request) { return *Respond(request, false); }

std::optional<HttpResponse> FhirApi::HandleInline(const HttpRequest& request) { return Respond(request, true); }

std::optional<HttpResponse> FhirApi::Respond(const HttpRequest& request, bool inline_only) {
  auto started = std::chrono::steady_clock::now();
  Call call{request, {"rest", request.peer.empty() ? "anonymous" : "anonymous@" + request.peer, ""}};
  call.inline_only = inline_only;
  call.context.report_warnings = PreferOf(request) == Prefer::kOperationOutcome;
  call.context.validation = options_.validation;
  call.context.check_references = options_.referential_integrity;
  call.context.request_id = std::to_string(next_request_id_++);
  call.context.address = request.peer;
  call.context.audits = audit::PendingRecords::Make();
  HttpResponse response;
  try {
    response = Route(call);
  } catch (const std::exception& e) {
    response = ErrorResponse(Status::Internal("unexpected error").WithDetail(e.what()));
  } catch (...) {
    response = ErrorResponse(Status::Internal("unexpected error").WithDetail("an exception that is not a std::exception"));
  }
  if (call.deferred) return std::nullopt;
  // A request refused before any layer recorded it (a body that is not JSON, an unknown route, a
  // method not allowed, a Bundle that cannot be planned) is recorded here: every denial is. Not
  // the health check saying the server is unhealthy: it touches no data, and must answer even
  // when the database cannot take a record.
  const bool health_check = call.interaction == "healthz" && response.status == 503;
  if (response.status >= 400 && !call.context.audits->any() && !health_check) {
    audit::AuditEntry entry = records::RecordService::EntryFor(call.context, RestfulSubtype(call.interaction), ActionOf(request.method));
    entry.query = request.path;
    const Status outcome = response.status >= 500 ? Status::Internal("HTTP " + std::to_string(response.status))
                                                  : Status::Invalid("HTTP " + std::to_string(response.status));
    if (Status recorded = records_.RecordAccess(call.context, std::move(entry), outcome); !recorded.ok()) response = ErrorResponse(recorded);
  }
  response.With("X-Request-Id", call.context.request_id);
  // The answer leaves once the request's audit records are durable (no unaudited access).
  if (call.context.audits->any()) {
    response.release = [audits = call.context.audits](std::function<void(Status)> done) { audits->WhenDurable(std::move(done)); };
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.Record(call.interaction, response.status, seconds);
  // The path may hold ids but never a query string (which can hold PHI). The logger escapes
  // control characters, so a path cannot forge a line.
  CK_LOG_INFO("request id={} method={} path={} interaction={} status={} duration_ms={:.3f}{}", call.context.request_id,
              request.method, request.path, call.interaction, response.status, seconds * 1000,
              call.emergency ? " emergency_access=true" : "");
  return response;
}

HttpResponse FhirApi::Route(Call& call) {
  const HttpRequest& request = call.request;
  // HEAD is routed as GET; the HTTP server sends only the headers (RFC 9110).
  const std::string_view method = request.method == "HEAD" ? "GET" : std::string_view(request.method);
  const std::vector<std::string>& segments = request.segments;
  const std::string_view first = segments.empty() ? std::string_view() : std::string_view(segments[0]);
  if (segments.size() == 1 && first == "healthz") {
    call.interaction = "healthz";
    if (method != "GET") return MethodNotAllowed("GET");
    HttpResponse response;
    response.body = "ok\n";
    // A stored page that failed to authenticate (encryption at rest) means a changed or damaged
    // file: unhealthy until an operator looks (the log names the page).
    if (auto stats = store_.Stats(); stats && stats->integrity_faults > 0) {
      response.status = 503;
      response.body = "unhealthy: " + std::to_string(stats->integrity_faults) + " database pages failed their integrity check (see the log)\n";
    }
    response.With("Content-Type", "text/plain; charset=utf-8");
    return response;
  }
  if (segments.size() == 1 && first == "metrics") {
    call.interaction = "metrics";
    if (method != "GET") return MethodNotAllowed("GET");
    return Metrics(call);
  }
  if (options_.access && ((segments.size() == 2 && first == "auth") || (segments.size() == 2 && first == ".well-known" &&
                                                                           segments[1] == "smart-configuration"))) {
    return AuthEndpoint(call, segments[1]);
  }
  if (first != kFhirPrefix) {
    return ErrorResponse(Status::NotFound("no such endpoint; the FHIR API is under /" + std::string(kFhirPrefix)));
  }
  // Everything under /fhir but the capability statement needs a valid token.
  if (options_.access && !(segments.size() == 2 && segments[1] == "metadata")) {
    const std::string_view authorization = request.Header("authorization");
    auto guard = options_.access->Authenticate(authorization);
    if (!guard) {
      audit::AuditEntry entry = records::RecordService::EntryFor(call.context, "authenticate", 'E');
      entry.type = "security";
      entry.query = request.path;
      Status recorded = records_.RecordAccess(call.context, std::move(entry), guard.error());
      if (!recorded.ok()) return ErrorResponse(recorded);
      return UnauthorizedResponse(guard.error(), !authorization.empty());
    }
    call.guard = std::move(*guard);
    call.context.guard = call.guard.get();
    const access::Identity& identity = call.guard->identity();
    call.context.actor = identity.subject;
    call.context.user = identity.user;
    call.context.client = identity.client_id;
    call.context.roles = identity.roles;
    call.context.purpose = audit::PurposeOfUse(identity.roles);
    if (!identity.break_glass.empty()) {
      call.context.actor += " (break-glass)";
      call.context.purpose = "ETREAT";
      call.context.reason = identity.break_glass;
      call.emergency = true;
    }
  }
  const bool csv_report = segments.size() == 4 && segments[3] == "$disclosures" && AuditApi::WantsCsv(request);
  if (!AcceptsJson(request) && !csv_report) {
    return ErrorResponse(Status(StatusCode::kNotAcceptable, "this server produces application/fhir+json only"));
  }
  std::string_view pretty = request.Query("_pretty");
  call.pretty = pretty == "true";
  return RouteFhir(call, method, std::span(segments).subspan(1));
}

HttpResponse FhirApi::AuthEndpoint(Call& call, std::string_view name) {
  const std::string_view method = call.request.method;
  AuthEvent event;
  if (name == "token") {
    call.interaction = "auth-token";
    if (call.inline_only) return Defer(call);  // checks and records a client assertion in the database
    return Recorded(call, event, TokenResponse(*options_.access, call.request, event));
  }
  if (name == "authorize") {
    call.interaction = "auth-authorize";
    if (call.inline_only) return Defer(call);  // checks passwords and stores users
    return Recorded(call, event, AuthorizeResponse(*options_.access, call.request, options_.base_url.starts_with("https://"), event));
  }
  if (name == "introspect") {
    call.interaction = "auth-introspect";
    if (call.inline_only) return Defer(call);
    return Recorded(call, event, IntrospectionResponse(*options_.access, call.request, event));
  }
  if (name == "revoke") {
    call.interaction = "auth-revoke";
    if (call.inline_only) return Defer(call);
    return Recorded(call, event, RevocationResponse(*options_.access, call.request, event));
  }
  if (name == "break-glass") {
    call.interaction = "auth-break-glass";
    if (call.inline_only) return Defer(call);
    return Recorded(call, event, BreakGlassResponse(*options_.access, records_, call.request, call.context, event));
  }
  if (name == "jwks") {
    call.interaction = "auth-jwks";
    return method == "GET" || method == "HEAD" ? JwksResponse(*options_.access) : MethodNotAllowed("GET");
  }
  if (name == "smart-configuration") {
    call.interaction = "smart-configuration";
    return method == "GET" || method == "HEAD" ? SmartConfigurationResponse(*options_.access) : MethodNotAllowed("GET");
  }
  return ErrorResponse(Status::NotFound("no such endpoint under /auth (authorize, token, introspect, revoke, break-glass, jwks)"));
}

HttpResponse FhirApi::Recorded(Call& call, const AuthEvent& event, HttpResponse response) {
  if (event.subtype.empty()) return response;  // refused before it was understood (a malformed form)
  audit::AuditEntry entry = records::RecordService::EntryFor(call.context, event.subtype, 'E');
  entry.type = event.subtype == "login" ? "login" : "security";
  entry.user = event.user;
  entry.client = event.client;
  entry.detail = event.detail;
  entry.reason = event.reason;
  if (!event.patient.empty()) entry.patients = {event.patient};
  if (!event.reason.empty()) entry.purpose = "ETREAT";
  Status recorded = records_.RecordAccess(call.context, std::move(entry), event.outcome);
  return recorded.ok() ? std::move(response) : ErrorResponse(recorded);
}

HttpResponse FhirApi::RecordedOperation(Call& call, std::string name, HttpResponse response) {
  if (call.deferred) return response;  // it runs again where it may block
  audit::AuditEntry entry = records::RecordService::EntryFor(call.context, "operation", 'E');
  entry.detail = std::move(name);
  const Status outcome = response.status >= 500   ? Status::Internal("HTTP " + std::to_string(response.status))
                         : response.status >= 400 ? Status::Invalid("HTTP " + std::to_string(response.status))
                                                  : Status::Ok();
  Status recorded = records_.RecordAccess(call.context, std::move(entry), outcome);
  return recorded.ok() ? std::move(response) : ErrorResponse(recorded);
}

// Every interaction but capabilities and read by id may reach the database: an inline-only call
// hands those back (Defer) to run where blocking is allowed.
HttpResponse FhirApi::RouteFhir(Call& call, std::string_view method, std::span<const std::string> s) {
  if (call.inline_only && method != "GET") return Defer(call);
  if (!s.empty() && s[0] == "AuditEvent") {
    call.interaction = "audit-event";
    if (call.inline_only) return Defer(call);
    QueryParameters parameters = call.request.query;
    if (method == "POST" && s.size() == 2 && s[1] == "_search") {
      std::optional<QueryParameters> form = ParseQuery(call.request.body);
      if (!form) return ErrorResponse(Status::Invalid("the _search form's percent-encoding is malformed"));
      parameters.insert(parameters.end(), form->begin(), form->end());
    }
    return audit_api_.AuditEvents(call.context, method, s, parameters);
  }
  if (s.size() == 3 && s[0] == "Patient" && s[2] == "$disclosures") {
    call.interaction = "disclosures";
    if (call.inline_only) return Defer(call);
    return method == "GET" ? audit_api_.Disclosures(call.context, s[1], call.request.query) : MethodNotAllowed("GET");
  }
  switch (s.size()) {
    case 0:
      if (method == "POST") {
        call.interaction = "transaction";
        return Bundle(call);
      }
      if (method == "GET") {
        call.interaction = "search-system";
        return Search(call, "", call.request.query);
      }
      return MethodNotAllowed("GET, POST");
    case 1:
      if (s[0] == "metadata") {
        call.interaction = "capabilities";
        return method == "GET" ? Capabilities(call) : MethodNotAllowed("GET");
      }
      if (s[0] == "$quality-report") {
        call.interaction = "quality-report";
        return method == "GET" ? RecordedOperation(call, "$quality-report", QualityReport(call)) : MethodNotAllowed("GET");
      }
      if (s[0] == "$reindex") {
        call.interaction = "reindex";
        if (call.inline_only) return Defer(call);
        if (method == "GET") return RecordedOperation(call, "$reindex list", ReindexStatus(call, ""));
        return method == "POST" ? RecordedOperation(call, "$reindex", Reindex(call)) : MethodNotAllowed("GET, POST");
      }
      if (s[0] == "_history") {
        call.interaction = "history-system";
        return method == "GET" ? History(call, "", "") : MethodNotAllowed("GET");
      }
      if (method == "POST") {
        call.interaction = "create";
        return Create(call, s[0]);
      }
      if (method == "GET") {
        call.interaction = "search-type";
        return Search(call, s[0], call.request.query);
      }
      if (method == "PUT" || method == "DELETE" || method == "PATCH") {
        call.interaction = method == "PUT" ? "conditional-update" : method == "DELETE" ? "conditional-delete" : "conditional-patch";
        return ConditionalWrite(call, method, s[0]);
      }
      return MethodNotAllowed("GET, POST, PUT, PATCH, DELETE");
    case 2:
      if (s[1] == "_search") {
        call.interaction = "search-type";
        return method == "POST" ? SearchByPost(call, s[0]) : MethodNotAllowed("POST");
      }
      if (s[0] == "$reindex") {
        call.interaction = "reindex";
        if (call.inline_only) return Defer(call);
        return method == "GET" ? RecordedOperation(call, "$reindex status", ReindexStatus(call, s[1])) : MethodNotAllowed("GET");
      }
      if (s[1] == "$everything") {
        call.interaction = "everything";
        return method == "GET" ? Everything(call, s[0], "") : MethodNotAllowed("GET");
      }
      if (s[1] == "$validate") {
        call.interaction = "validate";
        return method == "POST" || method == "GET" ? RecordedOperation(call, s[0] + "/$validate", Validate(call, s[0], ""))
                                                   : MethodNotAllowed("GET, POST");
      }
      if (s[1] == "_history") {
        call.interaction = "history-type";
        return method == "GET" ? History(call, s[0], "") : MethodNotAllowed("GET");
      }
      if (method == "GET") {
        call.interaction = "read";
        return Read(call, s[0], s[1]);
      }
      if (method == "PUT") {
        call.interaction = "update";
        return Update(call, s[0], s[1]);
      }
      if (method == "DELETE") {
        call.interaction = "delete";
        return Delete(call, s[0], s[1]);
      }
      if (method == "PATCH") {
        call.interaction = "patch";
        return Patch(call, s[0], s[1]);
      }
      return MethodNotAllowed("GET, PUT, PATCH, DELETE");
    case 3:
      if (s[2] == "$validate") {
        call.interaction = "validate";
        return method == "POST" || method == "GET" ? RecordedOperation(call, s[0] + "/" + s[1] + "/$validate", Validate(call, s[0], s[1]))
                                                   : MethodNotAllowed("GET, POST");
      }
      if (s[2] == "$everything") {
        call.interaction = "everything";
        return method == "GET" ? Everything(call, s[0], s[1]) : MethodNotAllowed("GET");
      }
      if (s[2] != "_history") {
        call.interaction = "search-compartment";
        return method == "GET" ? Search(call, s[2], call.request.query, s[0], s[1]) : MethodNotAllowed("GET");
      }
      call.interaction = "history-instance";
      return method == "GET" ? History(call, s[0], s[1]) : MethodNotAllowed("GET");
    case 4:
      if (s[2] != "_history") break;
      call.interaction = "vread";
      return method == "GET" ? VersionRead(call, s[0], s[1], s[3]) : MethodNotAllowed("GET");
    default:
      break;
  }
  return ErrorResponse(Status::NotFound("no such FHIR endpoint"));
}

HttpResponse FhirApi::Create(Call& call, std::string_view type) {
  if (!BodyIsJson(call.request)) {
    return ErrorResponse(Status(StatusCode::kUnsupportedMedia, "send the resource as application/fhir+json in UTF-8"));
  }
  // If-None-Exist: "identifier=http://x|1", search parameters as in a query string.
  QueryParameters condition;
  if (std::string_view if_none_exist = call.request.Header("if-none-exist"); !if_none_exist.empty()) {
    std::optional<QueryParameters> parsed = ParseQuery(TrimSpaces(if_none_exist));
    if (!parsed || parsed->empty()) {
      return ErrorResponse(Status::Invalid("If-None-Exist must hold search parameters, such as identifier=http://x|1"));
    }
    condition = std::move(*parsed);
  }
  auto outcome = records_.Create(call.context, type, call.request.body, std::move(condition));
  if (!outcome) return ErrorResponse(outcome.error());
  return WriteResponse(call, *outcome, outcome->existed ? 200 : 201);
}

// PUT or DELETE [type]?[search]: the search picks the resource (RecordService::ConditionalUpdate
// and ConditionalDelete).
HttpResponse FhirApi::ConditionalWrite(Call& call, std::string_view method, std::string_view type) {
  QueryParameters condition;
  for (const auto& parameter : call.request.query) {
    if (parameter.first != "_format" && parameter.first != "_pretty") condition.push_back(parameter);
  }
  if (condition.empty()) {
    HttpResponse response = ErrorResponse(
        Status(StatusCode::kMethodNotAllowed, std::string(method) + " needs a resource id ([type]/[id]) or a search ([type]?[search])"));
    response.With("Allow", "GET, POST, PUT, PATCH, DELETE");
    return response;
  }
  auto if_match = IfMatch(call.request.Header("if-match"));
  if (!if_match) return ErrorResponse(if_match.error());
  if (method == "PATCH") {
    auto patch = PatchBody(call.request);
    if (!patch) return ErrorResponse(patch.error());
    auto outcome = records_.ConditionalPatch(call.context, type, std::move(condition), *patch, *if_match);
    if (!outcome) return ErrorResponse(outcome.error());
    return WriteResponse(call, *outcome, 200);
  }
  if (method == "DELETE") {
    auto outcome = records_.ConditionalDelete(call.context, type, std::move(condition));
    if (!outcome) return ErrorResponse(outcome.error());
    HttpResponse response;
    std::string deleted = "deleted " + std::to_string(outcome->deleted.size()) + " " + outcome->type;
    for (const std::string& id : outcome->deleted) deleted += (&id == &outcome->deleted.front() ? ": " : ", ") + id;
    if (PreferOf(call.request) == Prefer::kOperationOutcome) {
      response.body = InformationOutcomeJson(deleted);
      response.With("Content-Type", kFhirJson);
    } else {
      response.status = 204;
    }
    return response;
  }
  if (!BodyIsJson(call.request)) {
    return ErrorResponse(Status(StatusCode::kUnsupportedMedia, "send the resource as application/fhir+json in UTF-8"));
  }
  auto outcome = records_.ConditionalUpdate(call.context, type, call.request.body, std::move(condition), *if_match);
  if (!outcome) return ErrorResponse(outcome.error());
  return WriteResponse(call, *outcome, outcome->created ? 201 : 200);
}

HttpResponse FhirApi::Update(Call& call, std::string_view type, std::string_view id) {
  if (!BodyIsJson(call.request)) {
    return ErrorResponse(Status(StatusCode::kUnsupportedMedia, "send the resource as application/fhir+json in UTF-8"));
  }
  auto if_match = IfMatch(call.request.Header("if-match"));
  if (!if_match) return ErrorResponse(if_match.error());
  auto outcome = records_.Update(call.context, type, id, call.request.body, *if_match);
  if (!outcome) return ErrorResponse(outcome.error());
  return WriteResponse(call, *outcome, outcome->created ? 201 : 200);
}

HttpResponse FhirApi::Patch(Call& call, std::string_view type, std::string_view id) {
  auto patch = PatchBody(call.request);
  if (!patch) return ErrorResponse(patch.error());
  auto if_match = IfMatch(call.request.Header("if-match"));
  if (!if_match) return ErrorResponse(if_match.error());
  auto outcome = records_.Patch(call.context, type, id, *patch, *if_match);
  if (!outcome) return ErrorResponse(outcome.error());
  return WriteResponse(call, *outcome, 200);
}

HttpResponse FhirApi::Delete(Call& call, std::string_view type, std::string_view id) {
  auto if_match = IfMatch(call.request.Header("if-match"));
  if (!if_match) return ErrorResponse(if_match.error());
  auto outcome = records_.Delete(call.context, type, id, *if_match);
  if (!outcome) return ErrorResponse(outcome.error());
  HttpResponse response;
  response.With("ETag", VersionEtag(outcome->version));
  if (PreferOf(call.request) == Prefer::kOperationOutcome) {
    response.body = InformationOutcomeJson("deleted " + outcome->type + "/" + outcome->id);
    response.With("Content-Type", kFhirJson);
  } else {
    response.status = 204;
  }
  return response;
}

// $validate answers 200 with what it found, valid or not; 4xx only when it could not validate.
HttpResponse FhirApi::Validate(Call& call, std::string_view type, std::string_view id) {
  if (call.inline_only) return Defer(call);
  const HttpRequest& request = call.request;
  if (!request.body.empty() && !BodyIsJson(request)) {
    return ErrorResponse(Status(StatusCode::kUnsupportedMedia, "send the resource as application/fhir+json in UTF-8"));
  }
  auto input = records::ReadValidateInput(request.body, request.Query("mode"), request.Query("profile"), records_.ReadOptions());
  if (!input) return ErrorResponse(input.error());
  auto issues = records_.ValidateOnly(call.context, type, id, std::move(*input));
  if (!issues) return ErrorResponse(issues.error());
  HttpResponse response;
  response.body = OperationOutcomeJson(*issues);
  if (call.pretty) response.body = fhir::PrettyPrintJson(response.body);
  response.With("Content-Type", kFhirJson);
  return response;
}

HttpResponse FhirApi::Defer(Call& call) {
  call.deferred = true;
  return {};
}

HttpResponse FhirApi::Read(Call& call, std::string_view type, std::string_view id) {
  Result<store::StoredVersion> version;
  if (call.inline_only) {
    // Reading and cutting the JSON for a subset is not for an I/O thread.
    if (call.request.HasQuery("_summary") || call.request.HasQuery("_elements")) return Defer(call);
    auto cached = records_.ReadCached(call.context, type, id);
    if (!cached) return Defer(call);
    version = std::move(*cached);
  } else {
    version = records_.Read(call.context, type, id);
  }
  if (!version) return ErrorResponse(version.error());
  const HttpRequest& request = call.request;
  bool not_modified = false;
  if (std::string_view none_match = request.Header("if-none-match"); !none_match.empty()) {
    not_modified = TrimSpaces(none_match) == "*" || ParseEtag(none_match) == version->version;
  } else if (std::string_view since = request.Header("if-modified-since"); !since.empty()) {
    std::optional<Millis> date = ParseHttpDate(TrimSpaces(since));
    not_modified = date && version->last_updated / 1000 * 1000 <= *date;
  }
  if (not_modified) {
    HttpResponse response;
    response.status = 304;
    response.With("ETag", VersionEtag(version->version)).With("Last-Modified", FormatHttpDate(version->last_updated));
    return response;
  }
  return ResourceResponse(call, *version);
}

HttpResponse FhirApi::VersionRead(Call& call, std::string_view type, std::string_view id, std::string_view version_text) {
  if (call.inline_only) return Defer(call);
  std::optional<std::int64_t> number = ParseNonNegative(version_text);
  if (!number) return ErrorResponse(Status::NotFound("no version '" + std::string(version_text) + "'"));
  auto version = records_.ReadVersion(call.context, type, id, *number);
  if (!version) return ErrorResponse(version.error());
  return ResourceResponse(call, *version);
}

HttpResponse FhirApi::History(Call& call, std::string_view type, std::string_view id) {
  if (call.inline_only) return Defer(call);
  const HttpRequest& request = call.request;
  store::HistoryQuery query{std::string(type), std::string(id)};
  std::string filters;
  query.count = options_.default_page_size;
  if (request.HasQuery("_count")) {
    auto count = ParseNonNegative(request.Query("_count"));
    if (!count || *count == 0) return ErrorResponse(Status::Invalid("_count must be a positive whole number"));
    query.count = static_cast<std::uint32_t>(std::min<std::int64_t>(*count, options_.max_page_size));
  }
  if (request.HasQuery("_offset")) {
    return ErrorResponse(Status::Invalid("_offset is not a history parameter: pages are reached by their links (_before, _after)"));
  }
  for (auto [name, field] : {std::pair{"_snapshot", &query.snapshot}, std::pair{"_before", &query.before}, std::pair{"_after", &query.after}}) {
    if (!request.HasQuery(name)) continue;
    auto value = ParseNonNegative(request.Query(name));
    if (!value) return ErrorResponse(Status::Invalid(std::string(name) + " must be a whole number"));
    *field = *value;
  }
  // Counting a resource's versions is cheap; a type's or the system's only when asked for.
  query.count_total = !id.empty();
  if (request.HasQuery("_total")) {
    std::string_view total = request.Query("_total");
    if (total != "none" && total != "estimate" && total != "accurate") {
      return ErrorResponse(Status::Invalid("_total must be none, estimate or accurate"));
    }
    query.count_total = total == "accurate";
    filters = "_total=" + std::string(total);
  }
  // A '+' in a timezone often arrives unescaped and decodes to a space: read it back as '+'.
  auto date_param = [&](const char* name) {
    std::string value(request.Query(name));
    std::replace(value.begin(), value.end(), ' ', '+');
    if (!filters.empty()) filters += "&";
    filters += std::string(name) + "=" + PercentEncode(value);
    return value;
  };
  if (request.HasQuery("_since")) {
    auto since = ParseFhirDateTimeRange(date_param("_since"));
    if (!since) return ErrorResponse(Status::Invalid("_since must be a FHIR instant such as 2024-01-01T00:00:00Z"));
    query.since = since->start;
  }
  if (request.HasQuery("_at")) {
    auto at = ParseFhirDateTimeRange(date_param("_at"));
    if (!at) return ErrorResponse(Status::Invalid("_at must be a FHIR dateTime such as 2024-01-01"));
    query.at = *at;
  }
  auto page = records_.History(call.context, query);
  if (!page) return ErrorResponse(page.error());
  std::string page_url = options_.base_url;
  if (!type.empty()) page_url += "/" + std::string(type);
  if (!id.empty()) page_url += "/" + std::string(id);
  page_url += "/_history";
  HttpResponse response;
  response.body = HistoryBundleJson(*page, query, options_.base_url, page_url, filters);
  if (call.pretty) response.body = fhir::PrettyPrintJson(response.body);
  response.With("Content-Type", kFhirJson);
  return response;
}

HttpResponse FhirApi::Capabilities(Call& call) {
  HttpResponse response;
  std::shared_ptr<const std::string> statement = CapabilityStatement();
  response.body = call.pretty ? fhir::PrettyPrintJson(*statement) : *statement;
  response.With("Content-Type", kFhirJson);
  return response;
}

search::SearchRequest FhirApi::NewSearchRequest(const Call& call, std::string_view type,
                                               const std::vector<std::pair<std::string, std::string>>& parameters) const {
  search::SearchRequest request{std::string(type), parameters};
  request.strict = call.request.Header("prefer").find("handling=strict") != std::string_view::npos;
  request.base_url = options_.base_url;
  request.default_count = options_.default_page_size;
  request.max_count = options_.max_page_size;
  return request;
}

HttpResponse FhirApi::SearchsetResponse(const Call& call, const records::RecordService::SearchResult& result,
                                        const std::string& search_url) const {
  HttpResponse response;
  response.body = SearchBundleJson(result.page, result.parsed, options_.base_url, search_url);
  if (call.pretty) response.body = fhir::PrettyPrintJson(response.body);
  response.With("Content-Type", kFhirJson);
  return response;
}

HttpResponse FhirApi::Search(Call& call, std::string_view type, const std::vector<std::pair<std::string, std::string>>& parameters,
                             std::string_view compartment_type, std::string_view compartment_id) {
  if (call.inline_only) return Defer(call);
  search::SearchRequest request = NewSearchRequest(call, type, parameters);
  request.compartment_type = compartment_type;
  request.compartment_id = compartment_id;
  auto result = type.empty() ? records_.SearchSystem(call.context, request) : records_.Search(call.context, request);
  if (!result) return ErrorResponse(result.error());
  std::string search_url = options_.base_url;
  if (!compartment_type.empty()) search_url += "/" + std::string(compartment_type) + "/" + std::string(compartment_id);
  if (!type.empty()) search_url += "/" + std::string(type);
  return SearchsetResponse(call, *result, search_url);
}

HttpResponse FhirApi::Reindex(Call& call) {
  if (Status allowed = records::RecordService::AllowAdministration(call.context); !allowed.ok()) return ErrorResponse(allowed);
  std::string url;
  std::vector<std::string> types;
  auto take = [&](std::string_view name, std::string_view value) -> Status {
    if (name == "url") {
      url = value;
    } else if (name == "type") {
      for (std::string_view type : Split(value, ',')) types.emplace_back(type);
    } else if (name != "_format" && name != "_pretty") {
      return Status::Invalid("$reindex takes url (a custom search parameter) or type (resource types); not '" + std::string(name) + "'");
    }
    return Status::Ok();
  };
  for (const auto& [name, value] : call.request.query) {
    if (Status taken = take(name, value); !taken.ok()) return ErrorResponse(taken);
  }
  if (!call.request.body.empty()) {  // a Parameters resource
    auto tree = fhir::ParseJsonTree(call.request.body, records_.ReadOptions());
    if (!tree || tree->TextOf("resourceType") != "Parameters") return ErrorResponse(Status::Invalid("$reindex takes a Parameters resource"));
    if (const fhir::Property* parameters = tree->Find("parameter")) {
      for (const fhir::Node& parameter : parameters->values) {
        std::string_view value;
        for (const char* name : {"valueUri", "valueUrl", "valueCanonical", "valueCode", "valueString"}) {
          if (value.empty()) value = parameter.TextOf(name);
        }
        if (Status taken = take(parameter.TextOf("name"), value); !taken.ok()) return ErrorResponse(taken);
      }
    }
  }
  if (!url.empty() && !types.empty()) return ErrorResponse(Status::Invalid("$reindex takes url or type, not both"));
  auto job = records_.search_parameters().Enqueue(url, types);
  if (!job) return ErrorResponse(job.error());
  HttpResponse response;
  response.status = 202;
  response.body = InformationOutcomeJson("reindex job " + *job + " queued");
  response.With("Content-Type", kFhirJson);
  response.With("Content-Location", options_.base_url + "/$reindex/" + *job);
  return response;
}

namespace {

std::string ProgressOf(const records::ReindexJobStatus& status) {
  return status.what + ": " + status.state + (status.type.empty() ? "" : ", at " + status.type) + ", " + std::to_string(status.done) +
         " resources indexed";
}

}  // namespace

HttpResponse FhirApi::ReindexStatus(Call& call, const std::string& job) {
  if (Status allowed = records::RecordService::AllowAdministration(call.context); !allowed.ok()) return ErrorResponse(allowed);
  if (job.empty()) {  // every job since the start, the running and the queued ones: one issue each
    std::vector<Issue> jobs;
    for (const records::ReindexJobStatus& status : records_.search_parameters().Jobs()) {
      jobs.push_back({IssueType::kInformational, options_.base_url + "/$reindex/" + status.id + ": " + ProgressOf(status), "",
                      IssueSeverity::kInformation});
    }
    HttpResponse response;
    response.With("Content-Type", kFhirJson);
    response.body = InformationOutcomeJson(std::to_string(jobs.size()) + " reindex jobs since the server started", jobs);
    return response;
  }
  std::optional<records::ReindexJobStatus> status = records_.search_parameters().Job(job);
  if (!status) return ErrorResponse(Status::NotFound("no reindex job " + job + " since the server started"));
  const std::string progress = ProgressOf(*status);
  if (status->state == "failed") return ErrorResponse(Status::Internal(progress + ": " + status->error));
  HttpResponse response;
  response.With("Content-Type", kFhirJson);
  response.body = InformationOutcomeJson(progress);
  if (status->state == "queued" || status->state == "running") {
    response.status = 202;
    response.With("X-Progress", progress);
  }
  return response;
}

HttpResponse FhirApi::Everything(Call& call, std::string_view type, std::string_view id) {
  if (call.inline_only) return Defer(call);
  search::SearchRequest request = NewSearchRequest(call, type, call.request.query);
  request.compartment_id = id;
  auto result = records_.Everything(call.context, request);
  if (!result) return ErrorResponse(result.error());
  return SearchsetResponse(call, *result,
                           options_.base_url + "/" + std::string(type) + (id.empty() ? "" : "/" + std::string(id)) + "/$everything");
}

// POST /fhir with a transaction or batch Bundle (FHIR R4 http, "Batches and Transactions"),
// planned by the bundle engine (records/bundle_plan.h).
HttpResponse FhirApi::Bundle(Call& call) {
  if (!BodyIsJson(call.request)) {
    return ErrorResponse(Status(StatusCode::kUnsupportedMedia, "send the Bundle as application/fhir+json in UTF-8"));
  }
  auto tree = fhir::ParseJsonTree(call.request.body, records_.ReadOptions());
  if (!tree) return ErrorResponse(tree.error());
  const std::string type(tree->TextOf("type"));
  if (tree->TextOf("resourceType") != "Bundle" || (type != "transaction" && type != "batch")) {
    return ErrorResponse(Status::Invalid("POST " + options_.base_url + " takes a Bundle of type transaction or batch"));
  }
  records::BundlePlanOptions plan_options;
  plan_options.definitions = &definitions_;
  plan_options.bind = records_.ReadOptions().bind;
  plan_options.base_url = options_.base_url;
  plan_options.max_entries = options_.max_bundle_entries;
  // A Bundle often names the same resource by the same search many times (Synthea: every
  // Encounter's serviceProvider): each search runs once.
  std::map<std::string, Result<std::string>> resolved;
  auto search = [&](const std::string& target, const std::string& query) -> Result<std::string> {
    std::optional<QueryParameters> parameters = ParseQuery(query);
    if (!parameters) return Err(Status::Invalid("malformed percent-encoding"));
    // Strict: a parameter ignored would widen the search to resources it was meant to exclude.
    search::SearchRequest request{target, std::move(*parameters)};
    request.strict = true;
    request.base_url = options_.base_url;
    request.default_count = 2;
    CK_ASSIGN_OR_RETURN(records::RecordService::SearchResult found, records_.Search(call.context, request));
    if (found.page.versions.empty()) return Err(Status::NotFound("no " + target + " matches it"));
    if (found.page.versions.size() > 1) return Err(Status::PreconditionFailed("more than one " + target + " matches it"));
    return target + "/" + found.page.versions[0].id;
  };
  plan_options.resolve = [&](const std::string& target, const std::string& query) -> Result<std::string> {
    auto known = resolved.find(target + "?" + query);
    if (known == resolved.end()) known = resolved.emplace(target + "?" + query, search(target, query)).first;
    return known->second;
  };
  auto plan = records::PlanBundle(std::move(*tree), plan_options);
  if (!plan) return ErrorResponse(plan.error());
  std::vector<std::string> entries(plan->entries.size());
  if (type == "batch") {
    for (const records::PlannedEntry& entry : plan->entries) entries[entry.index] = ResponseEntryJson(RouteEntry(call, entry));
  } else if (Status applied = Transaction(call, *plan, entries); !applied.ok()) {
    return ErrorResponse(applied);
  }
  HttpResponse response;
  response.body = ResponseBundleJson(type + "-response", entries);
  if (call.pretty) response.body = fhir::PrettyPrintJson(response.body);
  response.With("Content-Type", kFhirJson);
  return response;
}

// A planned transaction: its writes in one RecordService::Transaction, then its reads; the
// response entries into `entries` (by the entries' places). Errors: the first bad entry's, or
// the transaction's, naming the entry; nothing is stored then.
Status FhirApi::Transaction(Call& call, records::BundlePlan& plan, std::vector<std::string>& entries) {
  for (std::size_t index : plan.order) {
    const records::PlannedEntry& entry = plan.entries[index];
    if (entry.problem.ok()) continue;
    const Status problem = Status(entry.problem).WithContext(entry.Label());
    Status recorded = records_.RecordAccess(call.context, records::RecordService::EntryFor(call.context, "transaction", 'E'), problem);
    return recorded.ok() ? problem : recorded;
  }
  std::vector<records::TransactionWrite> writes;
  std::vector<std::size_t> written;  // the entry of each write
  for (std::size_t index : plan.order) {
    records::PlannedEntry& entry = plan.entries[index];
    if (entry.method == records::EntryMethod::kGet || entry.method == records::EntryMethod::kHead || !entry.existing.empty()) continue;
    // The search of a conditional update or delete, or a conditional create's ifNoneExist.
    const std::string& search = entry.method == records::EntryMethod::kPost ? entry.if_none_exist : entry.query;
    std::optional<QueryParameters> condition = ParseQuery(search);
    if (!condition) return Status::Invalid("the entry's search has a malformed escape").WithContext(entry.Label());
    auto if_match = IfMatch(entry.if_match, "ifMatch");
    if (!if_match) return std::move(if_match).error().WithContext(entry.Label());
    if (entry.method == records::EntryMethod::kPatch) {
      auto patch = records::PatchFromResource(*entry.resource);
      if (!patch) return std::move(patch).error().WithContext(entry.Label());
      auto write = records_.PatchWrite(call.context, entry.type, entry.id, std::move(*condition), *patch, *if_match);
      if (!write) return std::move(write).error().WithContext(entry.Label());
      write->label = entry.Label();
      writes.push_back(std::move(*write));
      written.push_back(index);
      continue;
    }
    using Kind = records::TransactionWrite::Kind;
    const Kind kind = entry.method == records::EntryMethod::kPost ? Kind::kCreate
                      : entry.method == records::EntryMethod::kPut ? Kind::kUpdate : Kind::kDelete;
    writes.push_back({kind, entry.type, entry.id, std::move(entry.resource), *if_match, entry.Label(), std::move(*condition)});
    written.push_back(index);
  }
  CK_ASSIGN_OR_RETURN(std::vector<records::WriteOutcome> outcomes, records_.Transaction(call.context, std::move(writes)));
  for (std::size_t i = 0; i < written.size(); ++i) {
    const records::WriteOutcome& outcome = outcomes[i];
    HttpResponse answer;
    if (plan.entries[written[i]].method == records::EntryMethod::kDelete) {
      answer.status = 204;
      if (!outcome.id.empty()) answer.With("ETag", VersionEtag(outcome.version));
    } else {
      answer = WriteResponse(call, outcome, outcome.created ? 201 : 200);
    }
    entries[written[i]] = ResponseEntryJson(answer, outcome.last_updated);
  }
  // Reads last, after the writes they may look at; a conditional create that found its match
  // answers with that resource.
  for (std::size_t index : plan.order) {
    records::PlannedEntry& entry = plan.entries[index];
    if (!entry.existing.empty()) {
      entry.method = records::EntryMethod::kGet;
      entry.type = entry.existing.substr(0, entry.existing.find('/'));
      entry.id = entry.existing.substr(entry.existing.find('/') + 1);
      entry.query.clear();
      entry.if_none_exist.clear();
    }
    if (entry.method == records::EntryMethod::kGet || entry.method == records::EntryMethod::kHead) {
      entries[index] = ResponseEntryJson(RouteEntry(call, entry));
    }
  }
  return Status::Ok();
}

// One entry of a batch (or a read in a transaction) answered as a request of its own.
HttpResponse FhirApi::RouteEntry(Call& call, const records::PlannedEntry& entry) {
  if (!entry.problem.ok()) {
    using Method = records::EntryMethod;
    const Status problem = Status(entry.problem).WithContext(entry.Label());
    audit::AuditEntry record = records::RecordService::EntryFor(
        call.context, entry.method == Method::kPost ? "create" : entry.method == Method::kPut ? "update"
                      : entry.method == Method::kPatch ? "patch" : entry.method == Method::kDelete ? "delete" : "read",
        ActionOf(entry.method == Method::kPost ? "POST" : entry.method == Method::kPut ? "PUT" : entry.method == Method::kPatch ? "PATCH"
                 : entry.method == Method::kDelete ? "DELETE" : "GET"));
    record.query = entry.url;
    Status recorded = records_.RecordAccess(call.context, std::move(record), problem);
    return ErrorResponse(recorded.ok() ? problem : recorded);
  }
  auto request = EntryRequest(entry, call.request);
  if (!request) return ErrorResponse(std::move(request).error().WithContext(entry.Label()));
  Call inner{*request, call.context};
  inner.interaction = call.interaction;
  const std::string_view method = request->method == "HEAD" ? "GET" : std::string_view(request->method);
  return RouteFhir(inner, method, std::span(request->segments).subspan(1));
}

// POST [type]/_search: the parameters in a form-encoded body (and any in the URL).
HttpResponse FhirApi::SearchByPost(Call& call, std::string_view type) {
  if (call.inline_only) return Defer(call);
  std::string_view content_type = call.request.Header("content-type");
  if (!content_type.starts_with("application/x-www-form-urlencoded")) {
    return ErrorResponse(Status(StatusCode::kUnsupportedMedia, "send search parameters as application/x-www-form-urlencoded"));
  }
  std::string body = call.request.body;
  std::replace(body.begin(), body.end(), '+', ' ');  // form encoding's space
  std::optional<QueryParameters> form = ParseQuery(body);
  if (!form) return ErrorResponse(Status::Invalid("the form body's percent-encoding is malformed"));
  QueryParameters parameters = call.request.query;
  parameters.insert(parameters.end(), form->begin(), form->end());
  return Search(call, type, parameters);
}

// The report of `chartkeeper quality` as JSON (the same document as its --json), for the types
// named by _type (comma-separated or repeated; all when absent). It reads every stored current
// version, so one runs at a time and a shutdown stops it.
HttpResponse FhirApi::QualityReport(Call& call) {
  if (call.inline_only) return Defer(call);
  // It reads every stored resource.
  if (Status allowed = records::RecordService::Authorize(call.context, records::Interaction::kRead, "*"); !allowed.ok()) {
    return ErrorResponse(allowed);
  }
  std::vector<std::string> types;
  for (const auto& [name, value] : call.request.query) {
    if (name != "_type") continue;
    for (std::string_view type : Split(value, ',')) {
      if (!records_.ResourceType(type)) return ErrorResponse(Status::Invalid("_type names an unknown resource type '" + std::string(type) + "'"));
      types.emplace_back(type);
    }
  }
  if (quality_report_running_.exchange(true)) {
    return ErrorResponse(Status::Unavailable("a quality report is running already; ask again when it is done"));
  }
  struct Running {
    std::atomic<bool>& flag;
    ~Running() { flag = false; }
  } running{quality_report_running_};
  records::QualityScan scan(records_, store_);
  auto report = scan.Run(types, [this](const std::string&, std::size_t) { return !shutting_down_; });
  if (!report) return ErrorResponse(report.error());
  HttpResponse response;
  response.body = call.pretty ? fhir::PrettyPrintJson(report->Json()) : report->Json();
  response.With("Content-Type", "application/json; charset=utf-8");
  return response;
}

HttpResponse FhirApi::Metrics(Call&) {
  auto stats = store_.Stats();
  if (!stats) return ErrorResponse(stats.error());
  HttpResponse response;
  response.body = metrics_.Render(*stats);
  // The audit trail: its records, and what is not yet forwarded to the SIEM.
  auto head = store_.AuditHead();
  if (!head) return ErrorResponse(head.error());
  const std::int64_t records = *head ? (*head)->sequence : 0;
  response.body += "# HELP chartkeeper_audit_records Records in the audit trail.\n# TYPE chartkeeper_audit_records counter\n"
                   "chartkeeper_audit_records " + std::to_string(records) + "\n";
  if (options_.audit_syslog) {
    auto sent = store_.ReadMeta(audit::kSyslogSentKey);
    if (!sent) return ErrorResponse(sent.error());
    const std::int64_t backlog = records - (*sent ? std::atoll((*sent)->c_str()) : 0);
    response.body += "# HELP chartkeeper_audit_syslog_backlog Audit records not yet sent to the syslog collector.\n"
                     "# TYPE chartkeeper_audit_syslog_backlog gauge\nchartkeeper_audit_syslog_backlog " + std::to_string(backlog) + "\n";
  }
  response.With("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  return response;
}

HttpResponse FhirApi::WriteResponse(Call& call, const records::WriteOutcome& outcome, int status) {
  HttpResponse response;
  response.status = status;
  response.With("ETag", VersionEtag(outcome.version))
      .With("Last-Modified", FormatHttpDate(outcome.last_updated))
      .With("Location", options_.base_url + "/" + outcome.type + "/" + outcome.id + "/_history/" +
                            std::to_string(outcome.version));
  switch (PreferOf(call.request)) {
    case Prefer::kMinimal:
      return response;
    case Prefer::kOperationOutcome: {
      std::string done = (outcome.existed ? "found " : outcome.created ? "created " : "updated ") + outcome.type + "/" + outcome.id + " version " +
                         std::to_string(outcome.version);
      if (outcome.recorded_errors > 0) {
        done += ", with " + std::to_string(outcome.recorded_errors) + (outcome.recorded_errors == 1 ? " error" : " errors") +
                " recorded beside it (the server's validation policy is lenient)";
      }
      response.body = InformationOutcomeJson(done, outcome.issues);
      break;
    }
    case Prefer::kRepresentation:
      response.body = call.pretty ? fhir::PrettyPrintJson(outcome.body) : outcome.body;
      break;
  }
  response.With("Content-Type", kFhirJson);
  return response;
}

HttpResponse FhirApi::ResourceResponse(Call& call, const store::StoredVersion& version) {
  auto subset = ReadSubset(call.request.query);
  if (!subset) return ErrorResponse(subset.error());
  HttpResponse response;
  std::string body = fhir::SubsetJson(version.body, *subset);
  response.body = call.pretty ? fhir::PrettyPrintJson(body) : std::move(body);
  response.With("Content-Type", kFhirJson)
      .With("ETag", VersionEtag(version.version))
      .With("Last-Modified", FormatHttpDate(version.last_updated));
  return response;
}

}  // namespace ck::rest
