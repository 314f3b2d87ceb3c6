#include "records/search_parameters.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "util/log.h"
#include "util/random_id.h"
#include "util/text.h"

namespace ck::records {
namespace {

constexpr char kJobKey[] = "reindex_job\t";
constexpr char kReadyKey[] = "param_ready\t";
constexpr std::uint32_t kPage = 500;
constexpr std::size_t kFinishedKept = 100;

std::string Joined(const std::vector<std::string>& parts, char separator) {
  std::string out;
  for (const std::string& part : parts) out += (out.empty() ? "" : std::string(1, separator)) + part;
  return out;
}

}  // namespace

SearchParameterRegistry::SearchParameterRegistry(store::ResourceStore& store, Parse parse, search::SearchZone zone)
    : store_(store), parse_(std::move(parse)), zone_(std::move(zone)), in_force_(search::ParameterSet::R4()) {}

SearchParameterRegistry::~SearchParameterRegistry() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (background_.joinable()) background_.join();
}

std::shared_ptr<const search::ParameterSet> SearchParameterRegistry::InForce() const {
  std::lock_guard lock(mutex_);
  return in_force_;
}

Result<search::CustomParameter> SearchParameterRegistry::Check(const fhir::Resource& resource) const {
  std::vector<search::Param> others;
  std::vector<const Entry*> other_entries;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, entry] : entries_) {
      if (id == resource.id()) continue;  // the version this one replaces
      others.push_back(entry.kept);
      other_entries.push_back(&entry);
    }
    CK_ASSIGN_OR_RETURN(search::CustomParameter parameter, search::ReadSearchParameter(resource, others));
    const fhir::SearchParameterDefinition& mine = parameter.definition;
    for (const Entry* other : parameter.InForce() ? other_entries : std::vector<const Entry*>()) {
      const fhir::SearchParameterDefinition& theirs = other->parameter.definition;
      if (theirs.url == mine.url) {
        return Err(Status(StatusCode::kUnprocessable, "SearchParameter.url: SearchParameter/" + other->tag.substr(0, other->tag.find('/')) +
                                                          " already defines " + mine.url));
      }
      if (theirs.code != mine.code) continue;
      for (const std::string& type : search::TypesCoveredBy(mine.bases)) {
        const std::vector<std::string> shared = search::TypesCoveredBy(theirs.bases);
        if (std::binary_search(shared.begin(), shared.end(), type)) {
          return Err(Status(StatusCode::kUnprocessable, "SearchParameter.code: " + type + " already has the custom parameter '" +
                                                            mine.code + "' (" + theirs.url + ")"));
        }
      }
    }
    return parameter;
  }
}

void SearchParameterRegistry::Publish() {
  auto set = std::make_shared<search::ParameterSet>();
  std::vector<search::Param> accepted;
  for (const auto& [id, entry] : entries_) {
    std::vector<search::Param> with = accepted;
    with.push_back(entry.kept);
    if (auto built = search::IndexExtractor::WithCustom(with); !built) {  // a composite whose component left, say
      CK_LOG_WARN("SearchParameter/{} ({}) is not in force: {}", id, entry.parameter.definition.url, built.error().message());
      continue;
    }
    accepted = std::move(with);
  }
  auto extractor = search::IndexExtractor::WithCustom(accepted);
  set->extractor = extractor ? std::move(*extractor) : search::ParameterSet::R4()->extractor;
  set->custom = accepted;
  for (search::Param param : accepted) {
    if (pending_.contains(param->url)) set->pending.insert(param->url);
  }
  set->generation = ++generation_;
  in_force_ = std::move(set);
}

Status SearchParameterRegistry::RecordJob(store::WriteTransaction& txn, const QueuedJob& job) const {
  const std::string value = job.status.id + "\t" + job.tag + "\t" + (job.removal ? "1" : "0") + "\t" + Joined(job.types, ',') + "\t" +
                            job.status.type + "\t" + job.after + "\t" + std::to_string(job.status.done) + "\t" + job.url;
  return txn.WriteMeta(kJobKey + job.key, value);
}

SearchParameterRegistry::QueuedJob SearchParameterRegistry::ParameterJob(const std::string& url, const Entry* entry) {
  QueuedJob job;
  job.status = {RandomUuid(), (entry == nullptr ? "removal of " : "parameter ") + url, "queued"};
  job.key = "param " + url;
  job.url = url;
  job.removal = entry == nullptr;
  job.tag = entry == nullptr ? "" : entry->tag;
  job.types = search::TypesCoveredBy(entry == nullptr ? std::vector<std::string>{"Resource"} : entry->parameter.definition.bases);
  return job;
}

void SearchParameterRegistry::Queue(QueuedJob job) {
  Status recorded = store_.Write([&](store::WriteTransaction& txn) { return RecordJob(txn, job); });
  if (!recorded.ok()) CK_LOG_WARN("reindex job {} not recorded (it runs, but not again after a restart): {}", job.status.what, recorded.ToString());
  {
    std::lock_guard lock(mutex_);
    std::erase_if(queue_, [&](const QueuedJob& queued) { return queued.key == job.key; });
    queue_.push_back(std::move(job));
  }
  wake_.notify_all();
}

void SearchParameterRegistry::Changed(const std::string& id, std::int64_t version, const std::optional<search::CustomParameter>& parameter) {
  std::vector<QueuedJob> jobs;
  {
    std::lock_guard lock(mutex_);
    std::string old_url;
    if (auto old = entries_.find(id); old != entries_.end()) old_url = old->second.parameter.definition.url;
    const bool active = parameter && parameter->InForce();
    if (active) {
      Entry entry{*parameter, search::KeepDefinition(parameter->definition), id + "/" + std::to_string(version)};
      const std::string url = entry.parameter.definition.url;
      pending_.insert(url);
      jobs.push_back(ParameterJob(url, &entry));
      entries_[id] = std::move(entry);
    } else {
      entries_.erase(id);
    }
    if (!old_url.empty() && (!active || parameter->definition.url != old_url)) {
      pending_.erase(old_url);
      jobs.push_back(ParameterJob(old_url, nullptr));
    }
    Publish();
  }
  for (QueuedJob& job : jobs) Queue(std::move(job));
}

Status SearchParameterRegistry::Load() {
  std::map<std::string, Entry> loaded;
  std::vector<search::Param> known;
  std::string after;
  while (true) {
    CK_ASSIGN_OR_RETURN(std::vector<store::StoredVersion> page, store_.ScanCurrent("SearchParameter", after, 200));
    if (page.empty()) break;
    after = page.back().id;
    for (const store::StoredVersion& version : page) {
      auto resource = parse_(version.body);
      if (!resource) continue;
      auto parameter = search::ReadSearchParameter(*resource, known);
      if (!parameter) {
        CK_LOG_WARN("stored SearchParameter/{} cannot be used: {}", version.id, parameter.error().message());
        continue;
      }
      if (!parameter->InForce()) continue;
      search::Param kept = search::KeepDefinition(parameter->definition);
      known.push_back(kept);
      loaded[version.id] = {std::move(*parameter), kept, version.id + "/" + std::to_string(version.version)};
    }
  }
  CK_ASSIGN_OR_RETURN(auto ready, store_.ListMeta(kReadyKey, 100000));
  CK_ASSIGN_OR_RETURN(auto stored_jobs, store_.ListMeta(kJobKey, 100000));
  std::map<std::string, std::string> ready_tags;
  for (auto& [key, tag] : ready) ready_tags[key.substr(std::string_view(kReadyKey).size())] = tag;
  std::vector<QueuedJob> resumed;
  for (const auto& [key, value] : stored_jobs) {
    const std::vector<std::string_view> f = Split(value, '\t');
    if (f.size() < 8) continue;
    QueuedJob job;
    job.key = key.substr(std::string_view(kJobKey).size());
    job.tag = f[1];
    job.removal = f[2] == "1";
    for (std::string_view type : Split(f[3], ',')) {
      if (!type.empty()) job.types.emplace_back(type);
    }
    job.after = f[5];
    job.url = f[7];
    job.status = {std::string(f[0]), job.url.empty() ? "types " + std::string(f[3]) : (job.removal ? "removal of " : "parameter ") + job.url,
                  "queued", std::string(f[4]), static_cast<std::size_t>(std::strtoull(std::string(f[6]).c_str(), nullptr, 10))};
    resumed.push_back(std::move(job));
  }
  std::vector<QueuedJob> fresh;
  {
    std::lock_guard lock(mutex_);
    entries_ = std::move(loaded);
    pending_.clear();
    for (const auto& [id, entry] : entries_) {
      const std::string& url = entry.parameter.definition.url;
      auto mark = ready_tags.find(url);
      if (mark != ready_tags.end() && mark->second == entry.tag) continue;
      pending_.insert(url);
      // Its job as stored, if one is for this version; else a new one.
      auto stored = std::find_if(resumed.begin(), resumed.end(), [&](const QueuedJob& job) { return job.url == url && !job.removal; });
      if (stored != resumed.end() && stored->tag == entry.tag) continue;
      if (stored != resumed.end()) resumed.erase(stored);
      fresh.push_back(ParameterJob(url, &entry));
    }
    Publish();
    for (QueuedJob& job : resumed) queue_.push_back(std::move(job));
  }
  for (QueuedJob& job : fresh) Queue(std::move(job));
  if (!entries_.empty()) CK_LOG_INFO("{} custom search parameters in force, {} waiting for their reindex", entries_.size(), pending_.size());
  return Status::Ok();
}

Result<std::string> SearchParameterRegistry::Enqueue(const std::string& url, const std::vector<std::string>& types) {
  QueuedJob job;
  if (!url.empty()) {
    std::lock_guard lock(mutex_);
    auto entry = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e.second.parameter.definition.url == url; });
    if (entry == entries_.end()) return Err(Status::NotFound("no custom search parameter in force has the url " + url));
    job = ParameterJob(url, &entry->second);
  } else {
    for (const std::string& type : types) {
      const fhir::TypeDefinition* definition = fhir::Definitions::R4().FindResourceType(type);
      if (definition == nullptr || definition->is_abstract) return Err(Status::Invalid("'" + type + "' is not a resource type"));
      job.types.push_back(definition->name);
    }
    if (job.types.empty()) job.types = search::TypesCoveredBy({"Resource"});
    std::sort(job.types.begin(), job.types.end());
    job.types.erase(std::unique(job.types.begin(), job.types.end()), job.types.end());
    job.status = {RandomUuid(), "types " + Joined(job.types, ','), "queued"};
    job.key = "types " + Joined(job.types, ',');
  }
  std::string id = job.status.id;
  Queue(std::move(job));
  return id;
}

Result<search::IndexEntries> SearchParameterRegistry::EntriesOf(const QueuedJob& job, const store::StoredVersion& version,
                                                                const search::ParameterSet& set) const {
  search::IndexEntries entries;
  if (job.removal) return entries;
  auto resource = parse_(version.body);
  if (!job.url.empty()) {
    search::Param param = set.FindCustom(job.url);
    if (!resource || param == nullptr) return entries;  // a body that no longer reads has no values
    return set.extractor->ExtractParameter(param, *resource, zone_);
  }
  if (!resource) {
    CK_LOG_WARN("{}/{} no longer reads; indexed by _lastUpdated only: {}", version.type, version.id, resource.error().message());
  } else {
    CK_ASSIGN_OR_RETURN(entries, set.extractor->Extract(*resource, zone_));
  }
  entries.dates.push_back({set.extractor->last_updated(), version.last_updated, version.last_updated + 1});
  return entries;
}

Status SearchParameterRegistry::RunPage(QueuedJob& job, const std::vector<store::StoredVersion>& page, const search::ParameterSet& set) {
  std::vector<store::StoredVersion> versions = page;
  QueuedJob next = job;
  next.after = page.back().id;
  next.status.done += page.size();
  // A version replaced between the read and the write is read again: the newer one may have
  // been appended before the set in force changed (a few rounds at most; each newer version
  // was appended later, under this set).
  for (int round = 0; round < 5 && !versions.empty(); ++round) {
    std::vector<search::IndexEntries> entries;
    for (const store::StoredVersion& version : versions) {
      CK_ASSIGN_OR_RETURN(search::IndexEntries one, EntriesOf(job, version, set));
      entries.push_back(std::move(one));
    }
    std::vector<std::string> missed;
    CK_RETURN_IF_ERROR(store_.Write([&](store::WriteTransaction& txn) -> Status {
      missed.clear();
      for (std::size_t i = 0; i < versions.size(); ++i) {
        const store::StoredVersion& v = versions[i];
        Result<bool> replaced = job.url.empty() ? txn.ReplaceIndex(v.type, v.id, v.sequence, entries[i])
                                                : txn.ReplaceParameterIndex(v.type, v.id, v.sequence, job.url, entries[i]);
        if (!replaced) return replaced.error();
        if (!*replaced) missed.push_back(v.id);
      }
      return round == 0 ? RecordJob(txn, next) : Status::Ok();
    }));
    versions.clear();
    for (const std::string& id : missed) {
      CK_ASSIGN_OR_RETURN(std::optional<store::StoredVersion> current, store_.ReadCurrent(job.status.type, id));
      if (current && !current->deleted()) versions.push_back(std::move(*current));
    }
  }
  job.after = next.after;
  job.status.done = next.status.done;
  return Status::Ok();
}

Status SearchParameterRegistry::Run(QueuedJob& job, const std::function<void(const ReindexJobStatus&)>& progress) {
  const std::vector<std::string> types = job.types;
  auto start = std::find(types.begin(), types.end(), job.status.type);
  if (start == types.end()) {
    start = types.begin();
    job.after.clear();
  }
  for (auto type = start; type != types.end(); ++type) {
    if (job.status.type != *type) {
      job.status.type = *type;
      job.after.clear();
    }
    while (true) {
      std::shared_ptr<const search::ParameterSet> set = InForce();
      {
        std::lock_guard lock(mutex_);
        if (stopping_) return Status::Ok();  // resumed at the next start
        const bool superseded =
            job.removal ? set->FindCustom(job.url) != nullptr
                        : !job.url.empty() && std::none_of(entries_.begin(), entries_.end(), [&](const auto& e) {
                            return e.second.parameter.definition.url == job.url && e.second.tag == job.tag;
                          });
        if (superseded) {
          job.status.state = "superseded";
          return Status::Ok();
        }
      }
      CK_ASSIGN_OR_RETURN(std::vector<store::StoredVersion> page, store_.ScanCurrent(*type, job.after, kPage));
      if (page.empty()) break;
      CK_RETURN_IF_ERROR(RunPage(job, page, *set));
      {
        std::lock_guard lock(mutex_);
        running_ = job.status;
      }
      if (progress) progress(job.status);
    }
  }
  job.status.state = "done";
  return Status::Ok();
}

void SearchParameterRegistry::Finished(QueuedJob& job, const Status& outcome) {
  if (!outcome.ok()) {
    job.status.state = "failed";
    job.status.error = outcome.ToString();
    CK_LOG_ERROR("reindex job {} failed (it runs again at the next start): {}", job.status.what, outcome.ToString());
  } else if (job.status.state == "done" || job.status.state == "superseded") {
    Status recorded = store_.Write([&](store::WriteTransaction& txn) -> Status {
      if (job.status.state == "done" && !job.url.empty()) {
        CK_RETURN_IF_ERROR(txn.WriteMeta(kReadyKey + job.url, job.removal ? std::nullopt : std::optional<std::string>(job.tag)));
      }
      // A superseding job with the same key has recorded itself already.
      CK_ASSIGN_OR_RETURN(std::optional<std::string> stored, txn.ReadMeta(kJobKey + job.key));
      if (stored && stored->starts_with(job.status.id + "\t")) CK_RETURN_IF_ERROR(txn.WriteMeta(kJobKey + job.key, std::nullopt));
      return Status::Ok();
    });
    if (!recorded.ok()) {
      job.status.state = "failed";
      job.status.error = recorded.ToString();
    } else if (job.status.state == "done") {
      CK_LOG_INFO("reindex job {} done: {} resources", job.status.what, job.status.done);
    }
  }
  std::lock_guard lock(mutex_);
  if (job.status.state == "done" && !job.removal && !job.url.empty()) {
    const bool current = std::any_of(entries_.begin(), entries_.end(), [&](const auto& e) {
      return e.second.parameter.definition.url == job.url && e.second.tag == job.tag;
    });
    if (current && pending_.erase(job.url) > 0) Publish();
  }
  running_.reset();
  if (job.status.state != "queued") {
    finished_.push_back(job.status);
    if (finished_.size() > kFinishedKept) finished_.erase(finished_.begin());
  }
}

Status SearchParameterRegistry::RunQueued(const std::function<void(const ReindexJobStatus&)>& progress) {
  while (true) {
    QueuedJob job;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) return Status::Ok();
      job = std::move(queue_.front());
      queue_.pop_front();
      job.status.state = "running";
      running_ = job.status;
    }
    Status outcome = Run(job, progress);
    Finished(job, outcome);
    if (!outcome.ok()) return outcome;
  }
}

void SearchParameterRegistry::Loop() {
  while (true) {
    QueuedJob job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      job.status.state = "running";
      running_ = job.status;
    }
    Status outcome = Run(job, {});
    if (job.status.state == "running" && outcome.ok()) return;  // stopping: resumed at the next start
    Finished(job, outcome);
  }
}

void SearchParameterRegistry::StartBackground() {
  std::lock_guard lock(mutex_);
  if (!background_.joinable()) background_ = std::thread([this] { Loop(); });
}

std::vector<ReindexJobStatus> SearchParameterRegistry::Jobs() const {
  std::lock_guard lock(mutex_);
  std::vector<ReindexJobStatus> out = finished_;
  if (running_) out.push_back(*running_);
  for (const QueuedJob& job : queue_) out.push_back(job.status);
  return out;
}

std::optional<ReindexJobStatus> SearchParameterRegistry::Job(const std::string& id) const {
  for (ReindexJobStatus& status : Jobs()) {
    if (status.id == id) return status;
  }
  return std::nullopt;
}

}  // namespace ck::records
