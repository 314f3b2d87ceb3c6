#include "cli/quality_command.h"

#include <cstdio>
#include <fstream>

#include "records/quality_report.h"
#include "store/sqlite/sqlite_store.h"
#include "util/time.h"

namespace ck::cli {

int RunQuality(const Config& config, const QualityOptions& options) {
  auto fail = [](const std::string& message) {
    std::fprintf(stderr, "chartkeeper quality: %s\n", message.c_str());
    return 1;
  };
  SystemClock clock;
  auto store = store::sqlite::OpenSqliteStore({.data_dir = config.data_dir, .clock = &clock});
  if (!store) return fail(store.error().ToString());
  records::RecordService records(fhir::Definitions::R4(), **store,
                                 {.max_json_depth = config.max_json_depth,
                                  .max_issues = config.max_issues,
                                  .strict_profiles = config.unknown_profiles == "error"});
  if (Status loaded = records.LoadStoredDefinitions(); !loaded.ok()) return fail(loaded.ToString());
  records::QualityScan scan(records, **store);
  auto report = scan.Run(options.types, [](const std::string& type, std::size_t checked) {
    std::fprintf(stderr, "\rquality: %s, %zu checked   ", type.c_str(), checked);
  });
  std::fprintf(stderr, "\n");
  if (!report) return fail(report.error().message());
  std::fputs(report->Table().c_str(), stdout);
  if (!options.json_file.empty()) {
    std::ofstream json(options.json_file, std::ios::binary | std::ios::trunc);
    json << report->Json() << '\n';
    if (!json) return fail("cannot write " + options.json_file);
  }
  return 0;
}

}  // namespace ck::cli
