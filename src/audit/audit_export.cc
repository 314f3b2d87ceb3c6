#include "audit/audit_export.h"

#include <optional>
#include <vector>

#include "util/crypto.h"
#include "util/json_value.h"

namespace ck::audit {
namespace {

JsonValue SealJson(const store::AuditSeal& seal) {
  JsonValue json = JsonObject();
  json.members.emplace_back("seq", JsonNumber(seal.sequence));
  json.members.emplace_back("hash", JsonString(seal.hash));
  json.members.emplace_back("time", JsonNumber(seal.time));
  json.members.emplace_back("signature", JsonString(Base64Encode(seal.signature)));
  return json;
}

std::string Line(std::string_view name, JsonValue value) {
  JsonValue line = JsonObject();
  line.members.emplace_back(std::string(name), std::move(value));
  return WriteJsonValue(line) + "\n";
}

}  // namespace

Result<ExportSummary> ExportTrail(store::ResourceStore& store, const std::string& public_key_pem, Millis since, std::ostream& out) {
  ExportSummary summary;
  CK_ASSIGN_OR_RETURN(std::optional<store::AuditSeal> head, store.AuditHead());
  store::AuditQuery first_query;
  first_query.time = TimeRange{since, INT64_MAX};
  first_query.oldest_first = true;
  first_query.count = 1;
  CK_ASSIGN_OR_RETURN(std::vector<store::AuditRecord> first, store.SearchAudit(first_query));
  const std::int64_t wanted = first.empty() || !head ? 0 : first.front().sequence;
  CK_ASSIGN_OR_RETURN(std::vector<store::AuditSeal> checkpoints, store.AuditCheckpoints(0));
  std::optional<store::AuditSeal> anchor;
  for (const store::AuditSeal& seal : checkpoints) {
    if (wanted > 0 && seal.sequence < wanted) anchor = seal;
  }
  const std::int64_t from = wanted == 0 ? 0 : anchor ? anchor->sequence + 1 : 1;
  const std::int64_t through = head && wanted > 0 ? head->sequence : 0;

  JsonValue header = JsonObject();
  header.members.emplace_back("format", JsonString("chartkeeper-audit-export/1"));
  header.members.emplace_back("public_key", JsonString(public_key_pem));
  JsonValue anchor_json;
  if (anchor) anchor_json = SealJson(*anchor);
  header.members.emplace_back("anchor", std::move(anchor_json));
  header.members.emplace_back("records", JsonNumber(from == 0 ? 0 : through - from + 1));
  out << WriteJsonValue(header) << "\n";

  std::size_t next_checkpoint = 0;
  while (next_checkpoint < checkpoints.size() && checkpoints[next_checkpoint].sequence < from) ++next_checkpoint;
  for (std::int64_t at = from; from > 0 && at <= through;) {
    CK_ASSIGN_OR_RETURN(std::vector<store::AuditRecord> rows, store.ReadAudit(at, 4096));
    if (rows.empty()) break;
    for (const store::AuditRecord& row : rows) {
      if (row.sequence > through) break;
      JsonValue record = JsonObject();
      record.members.emplace_back("seq", JsonNumber(row.sequence));
      record.members.emplace_back("time", JsonNumber(row.time));
      record.members.emplace_back("content", JsonString(row.content));
      record.members.emplace_back("hash", JsonString(row.hash));
      out << Line("record", std::move(record));
      if (summary.first == 0) summary.first = row.sequence;
      summary.last = row.sequence;
      ++summary.records;
      while (next_checkpoint < checkpoints.size() && checkpoints[next_checkpoint].sequence == row.sequence) {
        out << Line("checkpoint", SealJson(checkpoints[next_checkpoint++]));
      }
    }
    at = rows.back().sequence + 1;
  }
  if (head && summary.records > 0) out << Line("head", SealJson(*head));
  if (!out) return Err(Status::Internal("cannot write the export"));
  return summary;
}

}  // namespace ck::audit
