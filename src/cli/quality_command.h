#pragma once
// `chartkeeper quality [--type T]... [--json FILE]`: the data quality report
// (records/quality_report.h) over the data folder: a table on stdout, progress on stderr, and
// the same report as JSON in FILE if asked. Exit code: 0 (the report was made, whatever it
// says), 1 when the data folder or a type cannot be used.

#include <string>
#include <vector>

#include "util/config.h"

namespace ck::cli {

struct QualityOptions {
  std::vector<std::string> types;  // empty: every resource type
  std::string json_file;           // empty: no JSON
};

int RunQuality(const Config& config, const QualityOptions& options);

}  // namespace ck::cli
