#pragma once
// The search parameters in force (R4's and the custom ones stored as SearchParameter resources)
// and the reindex jobs that make a custom parameter searchable (docs/design/search.md, "Custom
// search parameters"):
// - a SearchParameter written with status active is checked first (search/custom_parameter.h;
//   a bad one is refused with 422) and, once committed, every write indexes it; it becomes
//   searchable when a job has indexed every stored resource of its bases under it. A new version
//   of it (a changed expression, say) is reindexed the same way; retiring or deleting it takes it
//   out of force at once, and a job removes its rows.
// - jobs also reindex every parameter of some types (`$reindex?type=`). They run one at a time,
//   on a background thread in the server or in the caller's thread (`chartkeeper reindex`), a page
//   of resources at a time: each page's values are extracted outside the store's writer and
//   written in one write that records where the job resumes, so reads and writes go on between
//   pages and a crash loses at most a page. A job's position ("reindex_job\t<key>") and a
//   parameter's readiness ("param_ready\t<url>" = the SearchParameter's id and version) are
//   kept in the store, so jobs resume at the next start.
// - a write indexes with the set in force when it is appended: one prepared under an older set
//   extracts again on the writer thread, so no resource misses a parameter a job has passed.
// Thread safety: all methods are safe from any thread.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fhir/resource.h"
#include "search/custom_parameter.h"
#include "search/search_zone.h"
#include "store/resource_store.h"
#include "util/status.h"

namespace ck::records {

// What $reindex's status endpoint and `chartkeeper reindex` report of a job.
struct ReindexJobStatus {
  std::string id;
  std::string what;          // "parameter <url>", "removal of <url>", "types Observation,Patient"
  std::string state;         // "queued", "running", "done", "failed", "superseded"
  std::string type;          // the type being walked
  std::size_t done = 0;      // resources indexed so far
  std::string error;         // why it failed
};

class SearchParameterRegistry {
 public:
  // Reads a stored body as a resource (RecordService::Parse).
  using Parse = std::function<Result<fhir::Resource>(std::string_view body)>;
  // REQUIRES: store outlives the registry.
  SearchParameterRegistry(store::ResourceStore& store, Parse parse, search::SearchZone zone);
  ~SearchParameterRegistry();  // stops the background jobs (they resume at the next start)

  std::shared_ptr<const search::ParameterSet> InForce() const;

  // The custom parameter the SearchParameter resource would define, checked against the other
  // custom parameters in force. Errors: kUnprocessable (ReadSearchParameter's; a url another
  // SearchParameter has; a code another custom parameter has on a base they share).
  Result<search::CustomParameter> Check(const fhir::Resource& resource) const;

  // After a write of SearchParameter/`id` committed: `parameter` is what its version `version`
  // defines (nullopt: deleted). Puts it in force (pending) and queues its reindex, or takes it
  // out of force and queues the removal of its rows.
  void Changed(const std::string& id, std::int64_t version, const std::optional<search::CustomParameter>& parameter);

  // At start: the stored SearchParameters put in force (those marked ready searchable at once),
  // and jobs queued for the unfinished ones and those a stopped server left. Errors: the store's.
  Status Load();

  // Queues a reindex of the custom parameter `url`, or (url empty) of every parameter of `types`
  // (every resource type when empty). Returns the job's id. Errors: kNotFound (a url that is no
  // custom parameter in force), kInvalid (a type that is not a resource type).
  Result<std::string> Enqueue(const std::string& url, const std::vector<std::string>& types);

  // Runs queued jobs on a background thread until the registry is destroyed.
  void StartBackground();
  // Runs every queued job in the caller's thread; `progress` is told of each page.
  Status RunQueued(const std::function<void(const ReindexJobStatus&)>& progress = {});

  std::vector<ReindexJobStatus> Jobs() const;
  std::optional<ReindexJobStatus> Job(const std::string& id) const;

 private:
  struct Entry {                 // a SearchParameter resource in force
    search::CustomParameter parameter;
    search::Param kept;          // its definition, kept for the process's life
    std::string tag;             // "<id>/<version>": what its readiness mark must say
  };
  struct QueuedJob {
    ReindexJobStatus status;
    std::string key;             // "param <url>" or "types <T,...>": a newer job with the key replaces it
    std::string url;             // parameter jobs
    std::string tag;             // the parameter's, when queued
    bool removal = false;
    std::vector<std::string> types;
    std::string after;           // the id the walk of status.type resumes after
  };

  // The job that indexes the parameter `url` of `entry` over its bases, or (entry null) removes
  // its rows from every type.
  static QueuedJob ParameterJob(const std::string& url, const Entry* entry);
  // A new set in force from entries_ and pending_ (under mutex_).
  void Publish();
  // Queues `job` (under mutex_), replacing a queued one with its key, and records it in the store.
  void Queue(QueuedJob job);
  Status RecordJob(store::WriteTransaction& txn, const QueuedJob& job) const;
  // Walks one job to its end, or until stopping_. Errors: the store's, an extraction's.
  Status Run(QueuedJob& job, const std::function<void(const ReindexJobStatus&)>& progress);
  // One page of a job's type: its entries extracted and written (with the job's position).
  Status RunPage(QueuedJob& job, const std::vector<store::StoredVersion>& page, const search::ParameterSet& set);
  // The job's values of one stored version: a parameter's, none (removal), or all.
  Result<search::IndexEntries> EntriesOf(const QueuedJob& job, const store::StoredVersion& version, const search::ParameterSet& set) const;
  // After a job ended: a parameter made searchable, the job taken off the queue.
  void Finished(QueuedJob& job, const Status& outcome);
  void Loop();

  store::ResourceStore& store_;
  const Parse parse_;
  const search::SearchZone zone_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::shared_ptr<const search::ParameterSet> in_force_;
  std::map<std::string, Entry> entries_;     // by SearchParameter id
  std::set<std::string> pending_;            // urls not searchable yet
  std::uint64_t generation_ = 0;
  std::deque<QueuedJob> queue_;
  std::vector<ReindexJobStatus> finished_;   // since start, newest last (the last 100)
  std::optional<ReindexJobStatus> running_;
  bool stopping_ = false;
  std::thread background_;
};

}  // namespace ck::records
