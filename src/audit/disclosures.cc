#include "audit/disclosures.h"

#include <algorithm>

#include "audit/audit_entry.h"
#include "util/time.h"

namespace ck::audit {
namespace {

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Joined(const std::vector<std::string>& values, char separator) {
  std::string out;
  for (const std::string& value : values) {
    if (!out.empty()) out += separator;
    out += value;
  }
  return out;
}

}  // namespace

Result<std::vector<store::AuditRecord>> DisclosureRecords(store::ResourceStore& store, const DisclosureQuery& query) {
  if (query.patient.empty()) return Err(Status::Invalid("a disclosures report is for one patient"));
  if (query.period.end <= query.period.start) return Err(Status::Invalid("the period ends before it starts"));
  if (query.period.end - query.period.start > kMaxDisclosurePeriod) {
    return Err(Status::Invalid("a disclosures report covers at most six years"));
  }
  store::AuditQuery page;
  page.patients = {query.patient};
  page.time = query.period;
  page.oldest_first = true;
  page.count = 4096;
  std::vector<store::AuditRecord> out;
  while (true) {
    CK_ASSIGN_OR_RETURN(std::vector<store::AuditRecord> rows, store.SearchAudit(page));
    if (rows.empty()) return out;
    page.after = rows.back().sequence;
    for (store::AuditRecord& row : rows) {
      if (!query.exclude_purposes.empty()) {
        CK_ASSIGN_OR_RETURN(AuditEntry entry, ParseAuditContent(row.content));
        const auto& excluded = query.exclude_purposes;
        if (std::find(excluded.begin(), excluded.end(), entry.purpose) != excluded.end()) continue;
      }
      if (out.size() == kMaxDisclosureRows) {
        return Err(Status(StatusCode::kTooCostly, "more than " + std::to_string(kMaxDisclosureRows) +
                                                      " accesses in the period: ask for a shorter one"));
      }
      out.push_back(std::move(row));
    }
  }
}

Result<std::string> DisclosuresCsv(const std::vector<store::AuditRecord>& records) {
  std::string csv = "sequence,time,outcome,interaction,action,user,client,roles,address,purpose,reason,records,query\r\n";
  for (const store::AuditRecord& record : records) {
    CK_ASSIGN_OR_RETURN(AuditEntry entry, ParseAuditContent(record.content));
    const std::string fields[] = {std::to_string(record.sequence), FormatInstant(record.time), std::to_string(entry.outcome),
                                  entry.subtype, std::string(1, entry.action), entry.user, entry.client, Joined(entry.roles, ' '),
                                  entry.address, entry.purpose, entry.reason, Joined(entry.entities, ' '), entry.query};
    for (const std::string& field : fields) csv += CsvField(field) + (&field == &fields[std::size(fields) - 1] ? "\r\n" : ",");
  }
  return csv;
}

Result<std::string> DisclosuresBundle(const std::vector<store::AuditRecord>& records, const std::string& base_url) {
  std::string bundle = R"({"resourceType":"Bundle","type":"collection","timestamp":")" + FormatInstant(SystemClock().Now()) + "\"";
  for (const store::AuditRecord& record : records) {
    CK_ASSIGN_OR_RETURN(std::string event, AuditEventJson(record));
    bundle += &record == &records.front() ? R"(,"entry":[)" : ",";
    bundle += R"({"fullUrl":")" + base_url + "/AuditEvent/" + std::to_string(record.sequence) + R"(","resource":)" + event + "}";
  }
  return bundle + (records.empty() ? "}" : "]}");
}

}  // namespace ck::audit
