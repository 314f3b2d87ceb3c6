#pragma once
// The FHIR R4 REST API over the records service: routes requests under /fhir to interactions
// (create, read, vread, update, delete, history at three levels, capabilities, transaction and
// batch Bundles) and operations
// ($validate, $quality-report, $everything, $reindex with its status URL), negotiates
// formats (JSON only: 406 / 415 otherwise), applies conditional headers (If-Match, If-None-Match,
// If-Modified-Since) and Prefer, and answers errors as OperationOutcomes. Also serves
// GET /healthz and GET /metrics. Logs one line per request and records metrics.
// Handlers are plain functions of HttpRequest -> HttpResponse: no sockets here.
// Thread safety: Handle may be called from any thread concurrently.

#include <atomic>
#include <memory>
#include <optional>
#include <mutex>
#include <span>
#include <string>

#include "fhir/definitions.h"
#include "records/bundle_plan.h"
#include "access/access_control.h"
#include "records/record_service.h"
#include "rest/audit_api.h"
#include "rest/auth_api.h"
#include "rest/http_message.h"
#include "rest/metrics.h"

namespace ck::rest {

struct FhirApiOptions {
  std::string base_url = "http://127.0.0.1:8080/fhir";  // as clients see it; ends in /fhir
  unsigned max_page_size = 1000;                          // largest _count honoured
  unsigned default_page_size = 50;                        // _count when none is given
  std::size_t max_bundle_entries = 20000;                 // most entries a transaction or batch may hold
  // What a write that breaks a validation rule gets (strict or lenient, rest_validation).
  records::ValidationPolicy validation = records::ValidationPolicy::kStrict;
  bool referential_integrity = true;  // RequestContext::check_references of every request
  // Who may do what (tokens, roles): every request but /healthz, /metrics, the capability
  // statement and the OAuth2 endpoints needs a valid bearer token. nullptr: authentication off.
  access::AccessControl* access = nullptr;
  // The purposes of use a disclosures report leaves out unless asked otherwise (HIPAA's
  // exclusions as policy: "TREAT", "HPAYMT", "HOPERAT"); empty: every access is shown.
  std::vector<std::string> disclosure_exclusions;
  bool audit_syslog = false;  // the trail is forwarded to a SIEM: /metrics shows the backlog
};

class FhirApi {
 public:
  // REQUIRES: every reference outlives the FhirApi.
  FhirApi(records::RecordService& records, const fhir::Definitions& definitions, store::ResourceStore& store,
          FhirApiOptions options);

  // Answers one request; may block on the database. Never throws: an unexpected exception
  // becomes a 500 OperationOutcome.
  HttpResponse Handle(const HttpRequest& request);
  // Answers what needs no database (fixed answers, errors found from the URL, reads of cached
  // versions), so an I/O thread can run it; nullopt when Handle must run elsewhere.
  std::optional<HttpResponse> HandleInline(const HttpRequest& request);
  // Stops long operations in flight (a quality report), so a shutdown need not wait for them.
  void Shutdown() { shutting_down_ = true; }

 private:
  struct Call;  // one request being answered
  std::optional<HttpResponse> Respond(const HttpRequest& request, bool inline_only);
  HttpResponse Route(Call& call);
  HttpResponse AuthEndpoint(Call& call, std::string_view name);
  // `response`, once the audit trail holds `event` (or the audit's failure instead).
  HttpResponse Recorded(Call& call, const AuthEvent& event, HttpResponse response);
  // `response` of the operation `name`, once the audit trail holds it (its outcome from the status).
  HttpResponse RecordedOperation(Call& call, std::string name, HttpResponse response);
  HttpResponse RouteFhir(Call& call, std::string_view method, std::span<const std::string> segments);
  HttpResponse Defer(Call& call);
  HttpResponse Create(Call& call, std::string_view type);
  HttpResponse Update(Call& call, std::string_view type, std::string_view id);
  HttpResponse ConditionalWrite(Call& call, std::string_view method, std::string_view type);
  HttpResponse Delete(Call& call, std::string_view type, std::string_view id);
  HttpResponse Patch(Call& call, std::string_view type, std::string_view id);
  HttpResponse Validate(Call& call, std::string_view type, std::string_view id);
  HttpResponse Read(Call& call, std::string_view type, std::string_view id);
  HttpResponse VersionRead(Call& call, std::string_view type, std::string_view id, std::string_view version);
  HttpResponse History(Call& call, std::string_view type, std::string_view id);
  // A type search, a compartment search (compartment_type and _id set), or with no type a
  // system search.
  HttpResponse Search(Call& call, std::string_view type, const std::vector<std::pair<std::string, std::string>>& parameters,
                      std::string_view compartment_type = {}, std::string_view compartment_id = {});
  HttpResponse SearchByPost(Call& call, std::string_view type);
  // A search request of the call (Prefer: handling, the base URL, page sizes), and its answer as
  // a searchset Bundle whose links start from `search_url`.
  search::SearchRequest NewSearchRequest(const Call& call, std::string_view type,
                                         const std::vector<std::pair<std::string, std::string>>& parameters) const;
  HttpResponse SearchsetResponse(const Call& call, const records::RecordService::SearchResult& result, const std::string& search_url) const;
  // POST $reindex (url, type: query or Parameters body): 202 with the job's status URL;
  // GET $reindex/[job]: 202 with X-Progress while it runs, 200 when done; GET $reindex (job
  // empty): every job since the start (administrators).
  HttpResponse Reindex(Call& call);
  HttpResponse ReindexStatus(Call& call, const std::string& job);
  // GET [type]/[id]/$everything, Patient/$everything (id empty): a searchset of pages.
  HttpResponse Everything(Call& call, std::string_view type, std::string_view id);
  HttpResponse Bundle(Call& call);
  Status Transaction(Call& call, records::BundlePlan& plan, std::vector<std::string>& entries);
  HttpResponse RouteEntry(Call& call, const records::PlannedEntry& entry);
  HttpResponse Capabilities(Call& call);
  HttpResponse QualityReport(Call& call);
  HttpResponse Metrics(Call& call);
  HttpResponse WriteResponse(Call& call, const records::WriteOutcome& outcome, int status);
  HttpResponse ResourceResponse(Call& call, const store::StoredVersion& version);

  records::RecordService& records_;
  const AuditApi audit_api_;
  const fhir::Definitions& definitions_;
  store::ResourceStore& store_;
  const FhirApiOptions options_;
  // The CapabilityStatement, built again when the search parameters in force change.
  std::shared_ptr<const std::string> CapabilityStatement();
  const Millis started_;
  std::mutex capability_mutex_;
  std::shared_ptr<const std::string> capability_statement_;
  std::uint64_t capability_generation_ = 0;
  rest::Metrics metrics_;
  std::atomic<std::uint64_t> next_request_id_{1};
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> quality_report_running_{false};  // one at a time: each reads the whole database
};

}  // namespace ck::rest
