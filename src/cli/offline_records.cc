#include "cli/offline_records.h"

#include "cli/audited_store.h"
#include "cli/package_command.h"
#include "store/sqlite/sqlite_store.h"
#include "util/log.h"

namespace ck::cli {

Result<records::RecordOptions> RecordOptionsFrom(const Config& config) {
  auto zone = search::SearchZone::Named(config.search_time_zone);
  if (!zone) return Err(Status::Invalid("config search_time_zone: " + zone.error().message()));
  return records::RecordOptions{.max_json_depth = config.max_json_depth,
                                .max_issues = config.max_issues,
                                .strict_profiles = config.unknown_profiles == "error",
                                .search_zone = std::move(*zone),
                                .max_conditional_deletes = config.max_conditional_deletes};
}

records::ValidationPolicy ValidationPolicyFrom(const std::string& value) {
  if (value == "lenient") return records::ValidationPolicy::kLenient;
  if (value == "structure") return records::ValidationPolicy::kStructure;
  return records::ValidationPolicy::kStrict;
}

Status CompleteSearchIndex(records::RecordService& records) {
  std::size_t pages = 0;
  Status status = records.CompleteSearchIndex([&pages](const std::string& type, std::size_t done) {
    if (pages++ == 0) CK_LOG_INFO("building the search index of the stored resources (resumable if stopped)");
    if (pages % 20 == 0) CK_LOG_INFO("search index: {} {} resources indexed", done, type);
  });
  if (status.ok() && pages > 0) CK_LOG_INFO("search index complete");
  return status;
}

Status LoadConfiguredPackages(const Config& config, records::RecordService& records) {
  for (const std::filesystem::path& file : config.packages) {
    auto report = LoadFhirPackage(records, file, /*skip_if_loaded=*/true);
    if (!report) return Status::Invalid("config packages: " + report.error().message());
    if (report->already_loaded) continue;
    for (const std::string& refused : report->refused) CK_LOG_ERROR("package {}: refused {}", report->name, refused);
    if (!report->refused.empty()) {
      return Status::Invalid("config packages: " + report->name + " " + report->version + ": " +
                             std::to_string(report->refused.size()) + " resources refused (logged above)");
    }
    CK_LOG_INFO("package {} {} loaded: {} conformance resources stored", report->name, report->version, report->stored);
  }
  return Status::Ok();
}

Status PrepareRecords(const Config& config, records::RecordService& records) {
  CK_RETURN_IF_ERROR(records.LoadStoredDefinitions());
  CK_RETURN_IF_ERROR(CompleteSearchIndex(records));
  return LoadConfiguredPackages(config, records);
}

Result<std::unique_ptr<OfflineRecords>> OpenOfflineRecords(const Config& config, bool bulk_load) {
  auto out = std::make_unique<OfflineRecords>();
  // No cache of current versions: an offline command reads each resource about once, and an
  // import would fill the cache with everything it writes (256 MiB of its peak memory).
  CK_ASSIGN_OR_RETURN(AuditedStore opened, OpenAuditedStore(config, {.clock = &out->clock, .cache_bytes = 0, .stage_index = bulk_load}));
  out->store = std::move(opened.store);
  out->audit = std::make_unique<audit::AuditTrail>(fhir::Definitions::R4(), *out->store);
  CK_ASSIGN_OR_RETURN(records::RecordOptions options, RecordOptionsFrom(config));
  options.audit_trail = out->audit.get();
  out->records = std::make_unique<records::RecordService>(fhir::Definitions::R4(), *out->store, std::move(options));
  CK_RETURN_IF_ERROR(PrepareRecords(config, *out->records));
  return out;
}

}  // namespace ck::cli
