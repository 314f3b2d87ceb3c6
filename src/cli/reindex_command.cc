#include "cli/reindex_command.h"

#include <cstdio>

#include "cli/offline_records.h"

namespace ck::cli {

int RunReindex(const Config& config, const ReindexOptions& options) {
  auto fail = [](const Status& status) {
    std::fprintf(stderr, "chartkeeper reindex: %s\n", status.ToString().c_str());
    return 1;
  };
  if (!options.param.empty() && !options.types.empty()) return fail(Status::Invalid("give --type or --param, not both"));
  auto opened = OpenOfflineRecords(config);
  if (!opened) return fail(opened.error());
  records::RecordService& records = *(*opened)->records;
  records::SearchParameterRegistry& parameters = records.search_parameters();
  if (options.param.empty() && options.types.empty()) {
    if (Status started = records.StartReindex(); !started.ok()) return fail(started);
    std::string current;
    Status done = records.CompleteSearchIndex([&](const std::string& type, std::size_t count) {
      if (type != current && !current.empty()) std::fprintf(stderr, "\n");
      current = type;
      std::fprintf(stderr, "\rreindex: %s, %zu done   ", type.c_str(), count);
    });
    std::fprintf(stderr, "\n");
    if (!done.ok()) return fail(done);
  } else if (auto queued = parameters.Enqueue(options.param, options.types); !queued) {
    return fail(queued.error());
  }
  std::string current;
  Status done = parameters.RunQueued([&](const records::ReindexJobStatus& job) {
    if (job.what + job.type != current && !current.empty()) std::fprintf(stderr, "\n");
    current = job.what + job.type;
    std::fprintf(stderr, "\rreindex: %s: %s, %zu done   ", job.what.c_str(), job.type.c_str(), job.done);
  });
  if (!current.empty()) std::fprintf(stderr, "\n");
  if (!done.ok()) return fail(done);
  std::fprintf(stderr, "reindex finished\n");
  return 0;
}

}  // namespace ck::cli
