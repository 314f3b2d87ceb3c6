#pragma once
// The bulk import engine behind `chartkeeper import`: reads NDJSON files (one resource per line)
// and FHIR Bundles, and writes each resource through the records service (the same core and
// validation as the REST API), from several threads so writes share group commits.
//
// Bundles go through the bundle engine (records/bundle_plan.h), and each entry is its own create,
// update or delete. An entry keeps the id it names (request.url of a PUT, a urn:uuid fullUrl, or
// resource.id); references to other entries' fullUrls are rewritten to Type/id, and conditional
// references Type?identifier=system|value are resolved against the Bundle and the resources seen
// earlier in the same run (Synthea's organization and practitioner bundles). A resource without
// an id is created with a server-assigned one. Writes of the same Type/id keep file order. With
// `as_transactions`, a transaction Bundle is one write of all its entries (RecordService::
// Transaction), rejected whole if any entry is bad; other Bundles are still taken entry by entry.
//
// Files are read in the order given; the next Bundle is read and decompressed on another thread
// while the current one is processed.
//
// Thread safety: ImportFiles and Finish from one thread; counters from any thread.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "fhir/resource.h"
#include "records/bundle_plan.h"
#include "records/record_service.h"

namespace ck::cli {

struct ImportRejection {
  std::string where;   // "file.ndjson line 12", "bundle.json entry 3"
  std::string reason;  // the client-safe message and issue locations
};

struct ImportSummary {
  std::uint64_t loaded = 0;
  std::uint64_t loaded_with_errors = 0;  // stored under the lenient policy, errors recorded
  std::vector<ImportRejection> rejected;
  bool stopped_early = false;  // fail_fast stopped at the first rejection
};

struct ImporterOptions {
  unsigned workers = 128;  // writers in flight, sharing group commits
  bool fail_fast = false;  // stop at the first rejected resource
  bool as_transactions = false;  // a transaction Bundle is applied whole: all of its entries or none
  records::ValidationPolicy validation = records::ValidationPolicy::kStrict;
};

class Importer {
 public:
  // REQUIRES: records outlives the Importer.
  Importer(records::RecordService& records, const fhir::Definitions& definitions, ImporterOptions options);
  ~Importer();

  // Reads the files in order and queues their resources, calling `starting(i)` as file i begins.
  // Bad resources are rejections, not errors. Errors: a file cannot be read at all (kNotFound,
  // kInvalid); the files before it are imported.
  Status ImportFiles(const std::vector<std::string>& files, const std::function<void(std::size_t)>& starting);
  // Waits for every queued write and returns what happened.
  ImportSummary Finish();

  std::uint64_t loaded() const { return loaded_; }
  std::uint64_t loaded_with_errors() const { return loaded_with_errors_; }
  std::uint64_t rejected() const { return rejected_count_; }
  bool stopped() const { return stopped_; }

 private:
  enum class Mode { kCreate, kUpdate, kDelete, kTransaction };
  struct Task {
    Mode mode;
    fhir::Resource resource;
    std::string type;  // for deletes
    std::string id;    // for deletes
    std::string where;
    std::vector<records::TransactionWrite> writes;  // kTransaction
  };
  struct Shard {
    std::mutex mu;
    std::condition_variable changed;
    std::deque<Task> tasks;  // guarded by mu
    bool closing = false;    // guarded by mu
  };

  Status ImportNdjson(const std::filesystem::path& path);
  void ImportJson(std::string_view text, const std::string& name);
  void ImportBundle(fhir::Node bundle, const std::string& name);
  void ImportTransaction(records::BundlePlan plan, const std::string& name);
  void Queue(Task task, const std::string& key);
  void Reject(std::string where, const Status& status);
  void Work(Shard& shard);
  void RememberIdentifiers(const fhir::Resource& resource);

  records::RecordService& records_;
  const fhir::Definitions& definitions_;
  const bool fail_fast_;
  const bool as_transactions_;
  const records::RequestContext context_;
  std::unordered_map<std::string, std::string> by_identifier_;  // "Type|system|value" -> id; main thread only
  std::size_t next_shard_ = 0;                                   // main thread only

  std::atomic<std::uint64_t> loaded_{0};
  std::atomic<std::uint64_t> loaded_with_errors_{0};
  std::atomic<std::uint64_t> rejected_count_{0};
  std::atomic<bool> stopped_{false};
  std::mutex rejections_mu_;
  std::vector<ImportRejection> rejections_;  // guarded by rejections_mu_

  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::thread> workers_;
};

}  // namespace ck::cli
