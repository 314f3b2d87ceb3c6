#include "cli/audit_command.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "audit/audit_export.h"
#include "audit/audit_verify.h"
#include "audit/disclosures.h"
#include "cli/audited_store.h"
#include "cli/encryption_keys.h"
#include "util/text.h"
#include "util/time.h"

namespace ck::cli {
namespace {

int Fail(const Status& status) {
  std::fprintf(stderr, "chartkeeper audit: %s\n", status.ToString().c_str());
  return 1;
}

Result<std::string> PublicKeyPem(const Config& config, const AuditCommand& command) {
  if (command.public_key.empty()) {
    CK_ASSIGN_OR_RETURN(auto key, audit::AuditKey::Load(AuditKeyPath(config)));
    return key->PublicKeyPem();
  }
  std::ifstream in(command.public_key);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return Err(Status::NotFound("cannot read the public key file " + command.public_key));
  return text.str();
}

int Verify(const Config& config, const AuditCommand& command) {
  auto pem = PublicKeyPem(config, command);
  if (!pem) return Fail(pem.error());
  auto key = audit::AuditKeyCheck::FromPem(*pem);
  if (!key) return Fail(key.error());
  SystemClock clock;
  auto data_key = DataKeyFor(config, NewFolder::kRefuse);
  if (!data_key) return Fail(data_key.error());
  auto store = store::sqlite::OpenSqliteStore(
      {.data_dir = config.data_dir, .clock = &clock, .data_keys = *data_key, .cache_bytes = 0, .read_only = true});
  if (!store) return Fail(store.error());
  auto report = audit::VerifyTrail(**store, **key, std::max<std::int64_t>(command.from, 1), [](std::int64_t checked) {
    std::fprintf(stderr, "\raudit verify: %lld records checked", static_cast<long long>(checked));
  });
  if (!report) return Fail(report.error());
  std::fprintf(stderr, "\r");
  if (!report->ok()) {
    std::printf("audit trail BROKEN at record %lld (%s): %s\n", static_cast<long long>(report->first_bad), audit::BreakName(report->broken),
                report->message.c_str());
    std::printf("checked %lld records and %lld signed checkpoints before it\n", static_cast<long long>(report->checked),
                static_cast<long long>(report->checkpoints));
    return 3;
  }
  std::printf("audit trail intact: records %lld to %lld, %lld signed checkpoints and the signed head verified\n",
              static_cast<long long>(std::max<std::int64_t>(command.from, 1)), static_cast<long long>(report->last),
              static_cast<long long>(report->checkpoints));
  return 0;
}

Result<TimeRange> DateArgument(const std::string& name, const std::string& value) {
  std::optional<TimeRange> range = ParseFhirDateTimeRange(value);
  if (!range) return Err(Status::Invalid("--" + name + ": '" + value + "' is not a FHIR date or dateTime, such as 2026-01-31"));
  return *range;
}

// Writes `text` to --output (readable by its owner only: it holds who saw which patient's
// data), or standard output.
Status WriteOutput(const std::string& output, const std::string& text) {
  if (output.empty()) {
    std::cout << text;
    return std::cout ? Status::Ok() : Status::Internal("cannot write to standard output");
  }
  std::ofstream out(output, std::ios::binary | std::ios::trunc);
  std::error_code ec;
  std::filesystem::permissions(output, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  out << text;
  out.flush();
  return out && !ec ? Status::Ok() : Status::Internal("cannot write " + output);
}

int Export(const Config& config, const AuditCommand& command) {
  auto since = DateArgument("since", command.since);
  if (!since) return Fail(since.error());
  SystemClock clock;
  auto opened = OpenAuditedStore(config, {.clock = &clock, .cache_bytes = 0});
  if (!opened) return Fail(opened.error());
  audit::AuditTrail trail(fhir::Definitions::R4(), *opened->store);
  std::ostringstream text;
  auto summary = audit::ExportTrail(*opened->store, opened->key->PublicKeyPem(), since->start, text);
  audit::AuditEntry entry = CommandEntry("export", "audit-export", 'R');
  entry.detail = "audit records since " + command.since + (command.output.empty() ? "" : " to " + command.output);
  entry.outcome = summary ? 0 : audit::OutcomeOf(summary.error());
  if (Status recorded = trail.RecordNow(entry); !recorded.ok()) return Fail(recorded);
  if (!summary) return Fail(summary.error());
  if (Status written = WriteOutput(command.output, text.str()); !written.ok()) return Fail(written);
  std::fprintf(stderr, "exported %lld audit records (%lld to %lld)\n", static_cast<long long>(summary->records),
               static_cast<long long>(summary->first), static_cast<long long>(summary->last));
  return 0;
}

int Disclosures(const Config& config, const AuditCommand& command) {
  if (command.format != "csv" && command.format != "json") return Fail(Status::Invalid("--format: csv or json"));
  audit::DisclosureQuery query{command.patient, {0, SystemClock().Now() + 1}, {}};
  query.period.start = query.period.end - audit::kMaxDisclosurePeriod;
  if (!command.start.empty()) {
    auto start = DateArgument("start", command.start);
    if (!start) return Fail(start.error());
    query.period.start = start->start;
  }
  if (!command.end.empty()) {
    auto end = DateArgument("end", command.end);
    if (!end) return Fail(end.error());
    query.period.end = end->end;
  }
  for (std::string_view code : Split(command.exclude.empty() ? config.disclosures_exclude : command.exclude, ',')) {
    if (!TrimSpaces(code).empty()) query.exclude_purposes.emplace_back(TrimSpaces(code));
  }
  SystemClock clock;
  auto opened = OpenAuditedStore(config, {.clock = &clock, .cache_bytes = 0});
  if (!opened) return Fail(opened.error());
  audit::AuditTrail trail(fhir::Definitions::R4(), *opened->store);
  auto rows = audit::DisclosureRecords(*opened->store, query);
  Result<std::string> report = !rows ? Result<std::string>(Err(rows.error()))
                               : command.format == "csv" ? audit::DisclosuresCsv(*rows)
                                                         : audit::DisclosuresBundle(*rows, "urn:chartkeeper");
  audit::AuditEntry entry = CommandEntry("rest", "operation", 'E');
  entry.detail = "$disclosures";
  entry.entities = {"Patient/" + command.patient};
  entry.patients = {command.patient};
  entry.outcome = report ? 0 : audit::OutcomeOf(report.error());
  if (Status recorded = trail.RecordNow(entry); !recorded.ok()) return Fail(recorded);
  if (!report) return Fail(report.error());
  if (Status written = WriteOutput(command.output, *report); !written.ok()) return Fail(written);
  return 0;
}

}  // namespace

int RunAuditCommand(const Config& config, const AuditCommand& command) {
  switch (command.action) {
    case AuditCommand::Action::kVerify: return Verify(config, command);
    case AuditCommand::Action::kExport: return Export(config, command);
    case AuditCommand::Action::kDisclosures: return Disclosures(config, command);
  }
  return 1;
}

}  // namespace ck::cli
