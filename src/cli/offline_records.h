#pragma once
// The records service over a data folder, for the commands that work on it without the server
// (import, package load, quality): the store opened, the service configured as the server's is,
// the stored profiles, value sets and code systems put to use, the configured packages loaded.

#include <memory>
#include <string_view>

#include "audit/audit_trail.h"
#include "records/record_service.h"
#include "store/resource_store.h"
#include "util/config.h"
#include "util/time.h"

namespace ck::cli {

// What RecordService takes from the configuration (serve uses it too).
Result<records::RecordOptions> RecordOptionsFrom(const Config& config);
// A front door's validation policy from its config value (rest_validation, import_validation:
// "strict", "lenient", "structure", as util/config.cc checks them).
records::ValidationPolicy ValidationPolicyFrom(const std::string& value);

// Indexes the stored resources that have no search index rows yet (RecordService::
// CompleteSearchIndex), logging progress; nothing to do on an indexed database.
Status CompleteSearchIndex(records::RecordService& records);
// Loads the configuration's `packages` not loaded before (cli/package_command.h), logging what
// was stored. Errors: kInvalid naming the package (unreadable, or resources refused: logged).
Status LoadConfiguredPackages(const Config& config, records::RecordService& records);
// What serve and the offline commands do before working on the records: the stored
// definitions put to use, the search index completed, the configured packages loaded.
Status PrepareRecords(const Config& config, records::RecordService& records);

struct OfflineRecords {
  SystemClock clock;
  std::unique_ptr<store::ResourceStore> store;
  std::unique_ptr<audit::AuditTrail> audit;  // every change recorded (cli/audited_store.h)
  std::unique_ptr<records::RecordService> records;
};

// With `bulk_load` (import), the store stages index rows (store->CompleteIndex makes them
// searchable). Errors: the store's (a folder another process uses, a newer schema...), or
// loading what it holds.
Result<std::unique_ptr<OfflineRecords>> OpenOfflineRecords(const Config& config, bool bulk_load = false);

}  // namespace ck::cli
