#include "cli/quality_command.h"

#include <cstdio>
#include <fstream>

#include "cli/offline_records.h"
#include "records/quality_report.h"

namespace ck::cli {

int RunQuality(const Config& config, const QualityOptions& options) {
  auto fail = [](const std::string& message) {
    std::fprintf(stderr, "chartkeeper quality: %s\n", message.c_str());
    return 1;
  };
  auto opened = OpenOfflineRecords(config);
  if (!opened) return fail(opened.error().ToString());
  records::QualityScan scan(*(*opened)->records, *(*opened)->store);
  auto report = scan.Run(options.types, [](const std::string& type, std::size_t checked) {
    std::fprintf(stderr, "\rquality: %s, %zu checked   ", type.c_str(), checked);
    return true;
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
