#include "cli/importer.h"

#include "cli/input_file.h"

#include <future>
#include "fhir/json_reader.h"

namespace ck::cli {
namespace {

constexpr std::size_t kMaxQueuedPerShard = 256;
constexpr std::string_view kUrnUuid = "urn:uuid:";

std::string Describe(const Status& status) {
  std::string out = status.message();
  for (const Issue& issue : status.issues()) {
    if (!issue.expression.empty()) out += "; " + issue.expression + ": " + issue.message;
  }
  return out;
}

std::string_view EntryText(const fhir::Node& entry, std::string_view part, std::string_view field) {
  const fhir::Property* p = entry.Find(part);
  return p == nullptr || p->values.empty() ? std::string_view() : p->values[0].TextOf(field);
}

}  // namespace

Importer::Importer(records::RecordService& records, const fhir::Definitions& definitions, ImporterOptions options)
    : records_(records),
      definitions_(definitions),
      fail_fast_(options.fail_fast),
      context_{.front_door = "cli-import", .actor = "local operator", .request_id = "import", .validation = options.validation} {
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
    ImportBundle(*tree, name);
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

void Importer::ImportBundle(fhir::Node& bundle, const std::string& name) {
  fhir::Property* entries = bundle.Find("entry");
  if (entries == nullptr) return;
  // First pass: the id each entry will have, so references between entries can be rewritten.
  std::vector<std::string> ids(entries->values.size());
  std::unordered_map<std::string, std::string> full_urls;
  for (std::size_t i = 0; i < entries->values.size(); ++i) {
    fhir::Node& entry = entries->values[i];
    const fhir::Property* resource = entry.Find("resource");
    std::string_view type = resource != nullptr ? resource->values[0].TextOf("resourceType") : std::string_view();
    std::string_view method = EntryText(entry, "request", "method");
    std::string_view url = EntryText(entry, "request", "url");
    std::string_view full_url = entry.TextOf("fullUrl");
    if ((method == "PUT" || method == "DELETE") && url.find('/') != std::string_view::npos && url.find('?') == std::string_view::npos) {
      ids[i] = url.substr(url.find('/') + 1);
    } else if (full_url.starts_with(kUrnUuid)) {
      ids[i] = full_url.substr(kUrnUuid.size());
    } else if (resource != nullptr) {
      ids[i] = resource->values[0].TextOf("id");
    }
    if (!full_url.empty() && !type.empty() && !ids[i].empty()) full_urls[std::string(full_url)] = std::string(type) + "/" + ids[i];
  }
  for (std::size_t i = 0; i < entries->values.size() && !stopped_; ++i) {
    fhir::Node& entry = entries->values[i];
    std::string where = name + " entry " + std::to_string(i);
    std::string_view method = EntryText(entry, "request", "method");
    if (method == "DELETE") {
      std::string_view url = EntryText(entry, "request", "url");
      std::string type(url.substr(0, url.find('/')));
      Queue({Mode::kDelete, {}, type, ids[i], std::move(where)}, type + "/" + ids[i]);
      continue;
    }
    fhir::Property* resource_property = entry.Find("resource");
    if (resource_property == nullptr) {
      Reject(where, Status::Invalid("the entry has no resource"));
      continue;
    }
    auto resource = fhir::BindResource(std::move(resource_property->values[0]), definitions_, records_.ReadOptions().bind);
    if (!resource) {
      Reject(where, resource.error());
      continue;
    }
    if (!ids[i].empty()) resource->SetId(ids[i]);
    RewriteReferences(resource->root(), full_urls);
    RememberIdentifiers(*resource);
    std::string key = resource->type_name() + "/" + ids[i];
    Queue({ids[i].empty() ? Mode::kCreate : Mode::kUpdate, std::move(*resource), "", "", std::move(where)}, key);
  }
}

void Importer::RewriteReferences(fhir::Node& node, const std::unordered_map<std::string, std::string>& full_urls) const {
  for (fhir::Property& property : node.properties) {
    bool is_reference = property.slot != nullptr && property.slot->element->path == "Reference.reference";
    for (fhir::Node& value : property.values) {
      if (value.kind == fhir::JsonKind::kObject) {
        RewriteReferences(value, full_urls);
        continue;
      }
      if (!is_reference || value.kind != fhir::JsonKind::kString) continue;
      if (auto it = full_urls.find(value.text); it != full_urls.end()) {
        value.text = it->second;
        continue;
      }
      // Type?identifier=system|value
      std::size_t question = value.text.find("?identifier=");
      if (question == std::string::npos) continue;
      std::string type = value.text.substr(0, question);
      std::string key = type + "|" + value.text.substr(question + 12);
      if (auto it = by_identifier_.find(key); it != by_identifier_.end()) value.text = type + "/" + it->second;
    }
  }
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
    Result<records::WriteOutcome> outcome = Err(Status::Internal("not run"));
    switch (task.mode) {
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
