#pragma once
// The records service over a data folder, for the commands that work on it without the server
// (import, package load, quality): the store opened, the service configured as the server's is,
// and the stored profiles, value sets and code systems put to use.

#include <memory>
#include <string_view>

#include "records/record_service.h"
#include "store/resource_store.h"
#include "util/config.h"
#include "util/time.h"

namespace ck::cli {

// What RecordService takes from the configuration (serve uses it too).
records::RecordOptions RecordOptionsFrom(const Config& config);
// A front door's validation policy from its config value (rest_validation, import_validation:
// "strict", "lenient", "structure", as util/config.cc checks them).
records::ValidationPolicy ValidationPolicyFrom(const std::string& value);

// Indexes the stored resources that have no search index rows yet (RecordService::
// CompleteSearchIndex), logging progress; nothing to do on an indexed database.
Status CompleteSearchIndex(records::RecordService& records);

struct OfflineRecords {
  SystemClock clock;
  std::unique_ptr<store::ResourceStore> store;
  std::unique_ptr<records::RecordService> records;
};

// Errors: the store's (a folder another process uses, a newer schema...), or loading what it holds.
Result<std::unique_ptr<OfflineRecords>> OpenOfflineRecords(const Config& config);

}  // namespace ck::cli
