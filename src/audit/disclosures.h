#pragma once
// The accounting of disclosures (HIPAA 164.528): for one patient over a period of up to six
// years, every access to and disclosure of their records the audit trail holds (who, when,
// what, why, with what outcome), oldest first, as CSV or as a FHIR Bundle of AuditEvents. The
// exclusions HIPAA allows (treatment, payment, operations...) are a policy: the purposes of use
// to leave out. Served by `GET /fhir/Patient/[id]/$disclosures` and `chartkeeper audit
// disclosures`.
// Thread safety: pure functions over the store's reads.

#include <string>
#include <vector>

#include "store/resource_store.h"
#include "util/status.h"
#include "util/time.h"

namespace ck::audit {

inline constexpr Millis kMaxDisclosurePeriod = 6LL * 366 * 24 * 3600 * 1000;  // six years
inline constexpr std::size_t kMaxDisclosureRows = 100000;

struct DisclosureQuery {
  std::string patient;                        // the patient's id
  TimeRange period{0, 0};                     // [start, end)
  std::vector<std::string> exclude_purposes;  // v3 ActReason codes left out ("TREAT", "HOPERAT")
};

// The records of the report, oldest first. Errors: kInvalid (no patient, a period longer than
// six years or ending before it starts), kTooCostly (more than kMaxDisclosureRows: ask for a
// shorter period), the store's.
Result<std::vector<store::AuditRecord>> DisclosureRecords(store::ResourceStore& store, const DisclosureQuery& query);

// The report as CSV (RFC 4180, a header row): sequence, time, outcome, interaction, action,
// user, client, roles, address, purpose, reason, records, query.
Result<std::string> DisclosuresCsv(const std::vector<store::AuditRecord>& records);
// The report as a FHIR Bundle (type collection) of AuditEvents.
Result<std::string> DisclosuresBundle(const std::vector<store::AuditRecord>& records, const std::string& base_url);

}  // namespace ck::audit
