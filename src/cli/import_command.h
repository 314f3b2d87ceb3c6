#pragma once
// `chartkeeper import FILE...`: loads NDJSON files and Bundles into the data folder through the
// records service, with a progress line on a terminal and a summary at the end. The config key
// import_validation chooses the validation policy (strict, lenient, structure).

#include <string>
#include <vector>

#include "util/config.h"

namespace ck::cli {

struct ImportOptions {
  std::vector<std::string> files;
  bool fail_fast = false;  // stop at the first rejected resource
  bool as_transactions = false;  // each transaction Bundle applied whole (Importer)
};

// Exit codes: 0 everything loaded; 3 some resources were rejected (listed on stderr);
// 1 a file or the database could not be used at all.
int RunImport(const Config& config, const ImportOptions& options);

}  // namespace ck::cli
