#pragma once
// The audit trail through FHIR, read-only: `GET /fhir/AuditEvent/[id]` and searches of
// AuditEvent (patient, agent, entity, date, type, subtype, action, outcome; newest first) for
// callers whose roles reach AuditEvent (auditor, admin); every other method on AuditEvent is 405
// for everyone. And the accounting of disclosures, `GET /fhir/Patient/[id]/$disclosures?start=
// &end=&exclude=` (a Bundle, or CSV with _format=csv). Each of these is itself audited.
// Thread safety: pure functions over the store's reads.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "records/record_service.h"
#include "rest/http_message.h"
#include "store/resource_store.h"

namespace ck::rest {

struct AuditApi {
  records::RecordService& records;
  store::ResourceStore& store;
  std::string base_url;  // ".../fhir"
  unsigned default_page_size = 50;
  unsigned max_page_size = 1000;
  std::vector<std::string> disclosure_exclusions;  // purposes of use left out unless `exclude` says otherwise

  // segments: the path after /fhir, starting with "AuditEvent". `parameters`: the query, or a
  // _search form.
  HttpResponse AuditEvents(const records::RequestContext& context, std::string_view method, std::span<const std::string> segments,
                           const QueryParameters& parameters) const;
  HttpResponse Disclosures(const records::RequestContext& context, std::string_view patient, const QueryParameters& parameters) const;
  // Whether a request asks for the disclosures report as CSV (which the FHIR API's content
  // negotiation would otherwise refuse).
  static bool WantsCsv(const HttpRequest& request);
};

}  // namespace ck::rest
