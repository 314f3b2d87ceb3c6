#include "cli/importer.h"

#include "cli/audited_store.h"

#include "cli/input_file.h"

#include <future>
#include <limits>

#include "fhir/json_reader.h"
#include "records/bundle_plan.h"
#include "rest/http_message.h"

namespace ck::cli {
namespace {

constexpr std::size_t kMaxQueuedPerShard = 256;

std::string Describe(const Status& status) {
  std::string out = status.message();
  for (const Issue& issue : status.issues()) {
    if (!issue.expression.empty()) out += "; " + issue.expression + ": " + issue.message;
  }
  return out;
}

}  // namespace

Importer::Importer(records::RecordService& records, const fhir::Definitions& definitions, ImporterOptions options)
    : records_(records),
      definitions_(definitions),
      fail_fast_(options.fail_fast),
      as_transactions_(options.as_transactions),
      context_{.front_door = "cli-import", .actor = "local operator", .request_id = "import", .user = OperatorUser(),
               .validation = options.validation} {
  for (unsigned i = 0; i < std::max(1u, options.workers); ++i) shards_.push_back(std::make_unique<Shard>());
  for (auto& shard : shards_) workers_.emplace_back([this, s = shard.get()] { Work(*s); });
}

Importer::~Importer() { Finish(); }

Status Importer::ImportFiles(const std::vector<std::string>& files, const std::function<void(std::size_t)>& starting) {
  auto is_ndjson = [](const std::filesystem::path& path) {
    return (path.extension() == ".bz2" ? path.stem() : path).extension() == ".ndjson";
  };
  auto read_whole = [](std::filesystem::path path) -> Result<std::string> {
    CK_ASSIGN_OR_RETURN(std::unique_ptr<InputFile> input, InputFile::Open(path));
    return input->ReadAll();
  };
  auto prefetch = [&](std::size_t i) {
    return i < files.size() && !is_ndjson(files[i]) ? std::async(std::launch::async, read_whole, files[i])
                                                    : std::future<Result<std::string>>();
  };
  std::future<Result<std::string>> next = prefetch(0);
  for (std::size_t i = 0; i < files.size() && !stopped_; ++i) {
    starting(i);
    std::future<Result<std::string>> current = std::move(next);
    next = prefetch(i + 1);
    if (is_ndjson(files[i])) {
      CK_RETURN_IF_ERROR(ImportNdjson(files[i]));
      continue;
    }
    CK_ASSIGN_OR_RETURN(std::string text, current.get());
    ImportJson(text, std::filesystem::path(files[i]).filename().string());
  }
  return Status::Ok();
}

Status Importer::ImportNdjson(const std::filesystem::path& path) {
  CK_ASSIGN_OR_RETURN(std::unique_ptr<InputFile> input, InputFile::Open(path));
  std::string name = path.filename().string();
  Status read = input->ForEachLine([&](std::string_view line, std::size_t number) {
    if (stopped_) return false;
    if (line.find_first_not_of(" \t") == std::string_view::npos) return true;
    std::string where = name + " line " + std::to_string(number);
    auto resource = records_.Parse(line);
    if (!resource) {
      Reject(where, resource.error());
      return true;
    }
    std::string key = resource->type_name() + "/" + std::string(resource->id());
    Mode mode = resource->id().empty() ? Mode::kCreate : Mode::kUpdate;
    RememberIdentifiers(*resource);
    Queue({mode, std::move(*resource), "", "", std::move(where)}, key);
    return true;
  });
  if (!read.ok()) Reject(name, read);
  return Status::Ok();
}

void Importer::ImportJson(std::string_view text, const std::string& name) {
  auto tree = fhir::ParseJsonTree(text, records_.ReadOptions());
  if (!tree) {
    Reject(name, tree.error());
    return;
  }
  if (tree->TextOf("resourceType") == "Bundle") {
    ImportBundle(std::move(*tree), name);
    return;
  }
  auto resource = fhir::BindResource(std::move(*tree), definitions_, records_.ReadOptions().bind);
  if (!resource) {
    Reject(name, resource.error());
    return;
  }
  std::string key = resource->type_name() + "/" + std::string(resource->id());
  Mode mode = resource->id().empty() ? Mode::kCreate : Mode::kUpdate;
  Queue({mode, std::move(*resource), "", "", name}, key);
}

void Importer::ImportBundle(fhir::Node bundle, const std::string& name) {
  records::BundlePlanOptions options;
  options.definitions = &definitions_;
  options.bind = records_.ReadOptions().bind;
  options.keep_ids = true;
  options.conditional_writes = false;
  options.max_entries = std::numeric_limits<std::size_t>::max();
  // Conditional references to resources of files read before (Synthea's organizations and
  // practitioners) are found by identifier; others stay as they are written.
  options.resolve = [this](const std::string& type, const std::string& query) -> Result<std::string> {
    if (query.starts_with("identifier=")) {
      if (auto it = by_identifier_.find(type + "|" + query.substr(11)); it != by_identifier_.end()) return type + "/" + it->second;
    }
    return type + "?" + query;
  };
  const bool transaction = as_transactions_ && bundle.TextOf("type") == "transaction";
  if (transaction) {
    // Whole or not at all: a conditional reference or create the run cannot answer is an error,
    // and a conditional create is checked again when the transaction is written.
    options.conditional_writes = true;
    options.resolve = [this](const std::string& type, const std::string& query) -> Result<std::string> {
      if (query.starts_with("identifier=")) {
        if (auto it = by_identifier_.find(type + "|" + query.substr(11)); it != by_identifier_.end()) return type + "/" + it->second;
      }
      return Err(Status::NotFound("no " + type + " read before matches it"));
    };
  }
  auto plan = records::PlanBundle(std::move(bundle), options);
  if (!plan) {
    Reject(name, plan.error());
    return;
  }
  if (transaction) {
    ImportTransaction(std::move(*plan), name);
    return;
  }
  // In the Bundle's order: writes of the same Type/id keep it.
  for (records::PlannedEntry& entry : plan->entries) {
    if (stopped_) return;
    std::string where = name + " entry " + std::to_string(entry.index);
    if (!entry.problem.ok()) {
      Reject(std::move(where), entry.problem);
      continue;
    }
    if (entry.method == records::EntryMethod::kDelete && !entry.id.empty()) {
      Queue({Mode::kDelete, {}, entry.type, entry.id, std::move(where)}, entry.type + "/" + entry.id);
      continue;
    }
    if (!entry.resource || entry.method == records::EntryMethod::kPatch) {
      Reject(std::move(where), Status::Invalid("an import stores resources: it takes POST and PUT entries, and DELETE of [type]/[id]"));
      continue;
    }
    fhir::Resource& resource = *entry.resource;
    RememberIdentifiers(resource);
    std::string key = resource.type_name() + "/" + std::string(resource.id());
    Queue({resource.id().empty() ? Mode::kCreate : Mode::kUpdate, std::move(resource), "", "", std::move(where)}, key);
  }
}

void Importer::ImportTransaction(records::BundlePlan plan, const std::string& name) {
  using Kind = records::TransactionWrite::Kind;
  std::vector<records::TransactionWrite> writes;
  for (std::size_t index : plan.order) {
    records::PlannedEntry& entry = plan.entries[index];
    if (entry.problem.ok() && (entry.method == records::EntryMethod::kPatch || entry.method == records::EntryMethod::kGet ||
                               entry.method == records::EntryMethod::kHead)) {
      entry.problem = Status::Invalid("an import stores resources: a transaction's entries must be POST, PUT or DELETE");
    }
    if (!entry.problem.ok()) {
      Reject(name + " " + entry.Label(), Status(entry.problem).WithContext("the transaction is not imported"));
      return;
    }
    if (!entry.existing.empty()) continue;  // a conditional create that a resource met
    const Kind kind = entry.method == records::EntryMethod::kDelete ? Kind::kDelete
                      : entry.method == records::EntryMethod::kPost ? Kind::kCreate : Kind::kUpdate;
    records::TransactionWrite write{kind, entry.type, entry.id, std::move(entry.resource), std::nullopt, entry.Label()};
    const std::string& search = kind == Kind::kCreate ? entry.if_none_exist : entry.query;
    std::optional<rest::QueryParameters> condition = rest::ParseQuery(search);
    if (!condition) {
      Reject(name + " " + entry.Label(), Status::Invalid("the transaction is not imported: the entry's search has a malformed escape"));
      return;
    }
    write.condition = std::move(*condition);
    if (write.resource) RememberIdentifiers(*write.resource);
    writes.push_back(std::move(write));
  }
  Task task{Mode::kTransaction, {}, "", "", name};
  task.writes = std::move(writes);
  Queue(std::move(task), "/");
}

void Importer::RememberIdentifiers(const fhir::Resource& resource) {
  const fhir::Property* identifiers = resource.root().Find("identifier");
  if (identifiers == nullptr || resource.id().empty()) return;
  for (const fhir::Node& identifier : identifiers->values) {
    std::string_view system = identifier.TextOf("system");
    std::string_view value = identifier.TextOf("value");
    if (value.empty()) continue;
    by_identifier_[resource.type_name() + "|" + std::string(system) + "|" + std::string(value)] = std::string(resource.id());
  }
}

void Importer::Queue(Task task, const std::string& key) {
  std::size_t index = key.ends_with('/') ? next_shard_++ % shards_.size() : std::hash<std::string>{}(key) % shards_.size();
  Shard& shard = *shards_[index];
  std::unique_lock lock(shard.mu);
  shard.changed.wait(lock, [&] { return shard.tasks.size() < kMaxQueuedPerShard || stopped_; });
  shard.tasks.push_back(std::move(task));
  shard.changed.notify_all();
}

void Importer::Reject(std::string where, const Status& status) {
  {
    std::lock_guard lock(rejections_mu_);
    rejections_.push_back({std::move(where), Describe(status)});
  }
  ++rejected_count_;
  if (fail_fast_) stopped_ = true;
}

void Importer::Work(Shard& shard) {
  while (true) {
    Task task;
    {
      std::unique_lock lock(shard.mu);
      shard.changed.wait(lock, [&] { return shard.closing || !shard.tasks.empty(); });
      if (shard.tasks.empty()) return;
      task = std::move(shard.tasks.front());
      shard.tasks.pop_front();
      shard.changed.notify_all();
    }
    if (stopped_) continue;
    if (task.mode == Mode::kTransaction) {
      auto outcomes = records_.Transaction(context_, std::move(task.writes));
      if (!outcomes) {
        Reject(std::move(task.where), outcomes.error());
        continue;
      }
      for (const records::WriteOutcome& outcome : *outcomes) {
        ++loaded_;
        if (outcome.recorded_errors > 0) ++loaded_with_errors_;
      }
      continue;
    }
    Result<records::WriteOutcome> outcome = Err(Status::Internal("not run"));
    switch (task.mode) {
      case Mode::kTransaction: break;
      case Mode::kCreate: outcome = records_.CreateResource(context_, std::move(task.resource)); break;
      case Mode::kUpdate: outcome = records_.UpdateResource(context_, std::move(task.resource), std::nullopt); break;
      case Mode::kDelete: outcome = records_.Delete(context_, task.type, task.id, std::nullopt); break;
    }
    if (outcome) {
      ++loaded_;
      if (outcome->recorded_errors > 0) ++loaded_with_errors_;
    } else {
      Reject(std::move(task.where), outcome.error());
    }
  }
}

ImportSummary Importer::Finish() {
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    shard->closing = true;
    shard->changed.notify_all();
  }
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  ImportSummary summary;
  summary.loaded = loaded_;
  summary.loaded_with_errors = loaded_with_errors_;
  summary.stopped_early = stopped_;
  std::lock_guard lock(rejections_mu_);
  summary.rejected = rejections_;
  return summary;
}

}  // namespace ck::cli
