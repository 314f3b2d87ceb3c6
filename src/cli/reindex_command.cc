#include "cli/reindex_command.h"

#include <cstdio>

#include "cli/offline_records.h"

namespace ck::cli {

int RunReindex(const Config& config) {
  auto fail = [](const Status& status) {
    std::fprintf(stderr, "chartkeeper reindex: %s\n", status.ToString().c_str());
    return 1;
  };
  auto opened = OpenOfflineRecords(config);
  if (!opened) return fail(opened.error());
  records::RecordService& records = *(*opened)->records;
  if (Status started = records.StartReindex(); !started.ok()) return fail(started);
  std::string current;
  Status done = records.CompleteSearchIndex([&](const std::string& type, std::size_t count) {
    if (type != current && !current.empty()) std::fprintf(stderr, "\n");
    current = type;
    std::fprintf(stderr, "\rreindex: %s, %zu done   ", type.c_str(), count);
  });
  std::fprintf(stderr, "\n");
  if (!done.ok()) return fail(done);
  std::fprintf(stderr, "reindex finished\n");
  return 0;
}

}  // namespace ck::cli
