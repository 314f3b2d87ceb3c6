#include "cli/import_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/importer.h"
#include "cli/offline_records.h"
#include "fhir/definitions.h"
#include "records/record_service.h"

namespace ck::cli {
namespace {

constexpr unsigned kImportWorkers = 128;
constexpr std::size_t kMaxRejectionsListed = 200;

// Redraws one status line on a terminal every 200 ms until destroyed.
class ProgressLine {
 public:
  explicit ProgressLine(const Importer& importer) : importer_(importer), started_(std::chrono::steady_clock::now()) {
    if (isatty(STDERR_FILENO) == 1) thread_ = std::thread([this] { Loop(); });
  }
  ~ProgressLine() {
    done_ = true;
    if (thread_.joinable()) {
      thread_.join();
      std::fputs("\n", stderr);
    }
  }
  void SetFile(std::size_t index, std::size_t count) {
    file_index_ = index;
    file_count_ = count;
  }

 private:
  void Loop() {
    while (!done_) {
      Draw();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    Draw();
  }
  void Draw() const {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    std::uint64_t loaded = importer_.loaded();
    std::fprintf(stderr, "\r[file %zu/%zu] %llu loaded, %llu rejected, %.0f resources/s   ", file_index_.load(),
                 file_count_.load(), static_cast<unsigned long long>(loaded),
                 static_cast<unsigned long long>(importer_.rejected()), seconds > 0 ? loaded / seconds : 0.0);
    std::fflush(stderr);
  }

  const Importer& importer_;
  const std::chrono::steady_clock::time_point started_;
  std::atomic<bool> done_{false};
  std::atomic<std::size_t> file_index_{0};
  std::atomic<std::size_t> file_count_{0};
  std::thread thread_;
};

}  // namespace

int RunImport(const Config& config, const ImportOptions& options) {
  auto opened = OpenOfflineRecords(config, /*bulk_load=*/true);
  if (!opened) {
    std::fprintf(stderr, "chartkeeper import: %s\n", opened.error().ToString().c_str());
    return 1;
  }
  const fhir::Definitions& definitions = fhir::Definitions::R4();
  records::RecordService& records = *(*opened)->records;
  auto started = std::chrono::steady_clock::now();
  Importer importer(records, definitions,
                    {.workers = kImportWorkers, .fail_fast = options.fail_fast, .as_transactions = options.as_transactions, .validation = ValidationPolicyFrom(config.import_validation)});
  ImportSummary summary;
  int exit_code = 0;
  {
    ProgressLine progress(importer);
    Status status = importer.ImportFiles(options.files, [&](std::size_t i) { progress.SetFile(i + 1, options.files.size()); });
    if (!status.ok()) {
      std::fprintf(stderr, "\nchartkeeper import: %s\n", status.message().c_str());
      exit_code = 1;
    }
    summary = importer.Finish();
  }
  // The loaded resources' index rows were staged; merged now, in key order (part of the time).
  if (Status indexed = (*opened)->store->CompleteIndex(); !indexed.ok()) {
    std::fprintf(stderr, "chartkeeper import: the search index of the loaded resources is incomplete (the next start "
                         "completes it): %s\n", indexed.ToString().c_str());
    exit_code = 1;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (std::size_t i = 0; i < summary.rejected.size() && i < kMaxRejectionsListed; ++i) {
    std::fprintf(stderr, "rejected %s: %s\n", summary.rejected[i].where.c_str(), summary.rejected[i].reason.c_str());
  }
  if (summary.rejected.size() > kMaxRejectionsListed) {
    std::fprintf(stderr, "... and %zu more rejections\n", summary.rejected.size() - kMaxRejectionsListed);
  }
  std::fprintf(stderr, "import %s: %llu loaded, %zu rejected in %.1f s (%.0f resources/s)\n",
               summary.stopped_early ? "stopped at the first rejection (--fail-fast)" : "finished",
               static_cast<unsigned long long>(summary.loaded), summary.rejected.size(), seconds,
               seconds > 0 ? summary.loaded / seconds : 0.0);
  if (summary.loaded_with_errors > 0) {
    std::fprintf(stderr, "%llu of the loaded resources break validation rules; their errors are recorded (import_validation = "
                         "lenient): see them with chartkeeper quality\n",
                 static_cast<unsigned long long>(summary.loaded_with_errors));
  }
  if (exit_code != 0) return exit_code;
  return summary.rejected.empty() ? 0 : 3;
}

}  // namespace ck::cli
