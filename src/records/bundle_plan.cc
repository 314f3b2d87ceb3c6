#include "records/bundle_plan.h"

#include <algorithm>
#include <unordered_map>

#include "fhir/primitive_syntax.h"
#include "util/random_id.h"

namespace ck::records {
namespace {

constexpr std::string_view kUrnUuid = "urn:uuid:";

std::string_view TextIn(const fhir::Node& node, std::string_view part, std::string_view field) {
  const fhir::Property* property = node.Find(part);
  return property == nullptr || property->values.empty() ? std::string_view() : property->values[0].TextOf(field);
}

std::optional<EntryMethod> ParseMethod(std::string_view method) {
  if (method == "DELETE") return EntryMethod::kDelete;
  if (method == "POST") return EntryMethod::kPost;
  if (method == "PUT") return EntryMethod::kPut;
  if (method == "PATCH") return EntryMethod::kPatch;
  if (method == "GET") return EntryMethod::kGet;
  if (method == "HEAD") return EntryMethod::kHead;
  return std::nullopt;
}

bool IsId(std::string_view id) { return !id.empty() && !fhir::CheckPrimitive("id", id); }

// "Type|system|value" for each identifier of an unbound resource.
std::vector<std::string> IdentifierKeys(const fhir::Node& resource) {
  std::vector<std::string> keys;
  const fhir::Property* identifiers = resource.Find("identifier");
  if (identifiers == nullptr) return keys;
  for (const fhir::Node& identifier : identifiers->values) {
    std::string_view value = identifier.TextOf("value");
    if (value.empty()) continue;
    keys.push_back(std::string(resource.TextOf("resourceType")) + "|" + std::string(identifier.TextOf("system")) + "|" +
                   std::string(value));
  }
  return keys;
}

class Planner {
 public:
  Planner(const BundlePlanOptions& options, std::string_view type)
      : options_(options), transaction_(type == "transaction"), with_requests_(transaction_ || type == "batch") {}

  // The entry's request, checked; its resource (unbound) is left in `body`.
  PlannedEntry Read(fhir::Node& entry, std::size_t index, std::optional<fhir::Node>& body) {
    PlannedEntry planned;
    planned.index = index;
    planned.full_url = entry.TextOf("fullUrl");
    planned.url = TextIn(entry, "request", "url");
    planned.if_match = TextIn(entry, "request", "ifMatch");
    planned.if_none_match = TextIn(entry, "request", "ifNoneMatch");
    planned.if_none_exist = TextIn(entry, "request", "ifNoneExist");
    planned.if_modified_since = TextIn(entry, "request", "ifModifiedSince");
    if (fhir::Property* resource = entry.Find("resource"); resource != nullptr && !resource->values.empty()) {
      body = std::move(resource->values[0]);
    }
    std::string_view method = TextIn(entry, "request", "method");
    if (method.empty() && !with_requests_ && body) {
      // A collection, document or searchset: each resource is stored as it is.
      const std::string_view type = body->TextOf("resourceType");
      const std::string_view id = body->TextOf("id");
      method = id.empty() ? "POST" : "PUT";
      planned.url = std::string(type) + (id.empty() ? "" : "/" + std::string(id));
    }
    std::optional<EntryMethod> parsed = ParseMethod(method);
    if (!parsed) {
      planned.problem = Status::Invalid(method.empty() ? "the entry has no request.method"
                                                       : "request.method '" + std::string(method.substr(0, 16)) + "' is not an HTTP method FHIR uses");
      return planned;
    }
    planned.method = *parsed;
    std::string_view url = planned.url;
    if (!options_.base_url.empty() && url.starts_with(options_.base_url + "/")) url.remove_prefix(options_.base_url.size() + 1);
    std::size_t question = url.find('?');
    if (question != std::string_view::npos) planned.query = url.substr(question + 1);
    std::string_view path = url.substr(0, question);
    std::size_t slash = path.find('/');
    planned.type = path.substr(0, slash);
    if (slash != std::string_view::npos) planned.id = path.substr(slash + 1);
    const bool writes = planned.method != EntryMethod::kGet && planned.method != EntryMethod::kHead;
    if (writes) {
      if (planned.url.empty()) {
        planned.problem = Status::Invalid("the entry has no request.url");
      } else if (options_.definitions->FindResourceType(planned.type) == nullptr) {
        planned.problem = Status::NotFound("request.url '" + planned.url.substr(0, 100) + "' names no resource type");
      } else if (planned.id.find('/') != std::string::npos || (!planned.id.empty() && !IsId(planned.id))) {
        planned.problem = Status::Invalid("request.url '" + planned.url.substr(0, 100) + "' is not [type] or [type]/[id]");
      } else if (planned.method == EntryMethod::kPost && (!planned.id.empty() || question != std::string_view::npos)) {
        planned.problem = Status::Invalid("a POST entry's request.url is the resource type alone");
      } else if (planned.method != EntryMethod::kPost && planned.id.empty() && planned.query.empty()) {
        planned.problem = Status::Invalid("request.url '" + planned.url.substr(0, 100) + "' names no resource (expected [type]/[id])");
      }
    }
    const bool has_body = planned.method == EntryMethod::kPost || planned.method == EntryMethod::kPut;
    if (planned.problem.ok() && planned.method == EntryMethod::kPatch) {
      const std::string_view type = body ? body->TextOf("resourceType") : std::string_view();
      if (type != "Parameters" && type != "Binary") {
        planned.problem = Status::Invalid("a PATCH entry needs its patch as the resource: a Parameters (FHIRPath Patch) or a Binary (JSON Patch)");
      }
    }
    if (planned.problem.ok() && has_body) {
      if (!body) {
        planned.problem = Status::Invalid("a " + std::string(method) + " entry needs a resource");
      } else if (std::string_view type = body->TextOf("resourceType"); type != planned.type) {
        planned.problem = Status::Invalid("the resource is of type '" + std::string(type.substr(0, 64)) + "', but request.url names " + planned.type);
      } else if (planned.method == EntryMethod::kPut && !planned.id.empty() && !body->TextOf("id").empty() &&
                 body->TextOf("id") != planned.id) {
        planned.problem = Status::Invalid("the resource's id '" + std::string(body->TextOf("id").substr(0, 64)) +
                                          "' differs from request.url's '" + planned.id + "'");
      }
    }
    if (planned.problem.ok() && planned.method == EntryMethod::kPost) planned.id = NewId(planned, *body);
    const bool resolves = transaction_ && options_.resolve && options_.conditional_writes;
    if (planned.problem.ok() && planned.method == EntryMethod::kPut && !planned.query.empty() && resolves) {
      // A conditional update: references to the entry name what its search picks, or the
      // resource it creates when nothing matches.
      auto found = options_.resolve(planned.type, planned.query);
      const std::string_view own_id = body->TextOf("id");
      if (found) {
        planned.id = found->substr(found->find('/') + 1);
      } else if (found.error().code() == StatusCode::kNotFound) {
        planned.id = IsId(own_id) ? std::string(own_id) : RandomUuid();
      } else {
        planned.problem = std::move(found).error().WithContext("request.url");
      }
      if (planned.problem.ok() && !own_id.empty() && own_id != planned.id) {
        planned.problem = Status::Invalid("the resource's id '" + std::string(own_id.substr(0, 64)) + "' is not that of the " + planned.type +
                                          " request.url picks ('" + planned.id + "')");
      }
    }
    if (planned.problem.ok() && planned.method == EntryMethod::kPost && !planned.if_none_exist.empty() && resolves) {
      auto found = options_.resolve(planned.type, planned.if_none_exist);
      if (found) {
        planned.existing = std::move(*found);
        if (!planned.full_url.empty()) targets_[planned.full_url] = planned.existing;
        return planned;
      }
      if (found.error().code() != StatusCode::kNotFound) planned.problem = std::move(found).error().WithContext("ifNoneExist");
    }
    // A batch's entries are each on their own (R4: no references between them), created with
    // ids of the server's choosing when they run: nothing to rewrite to.
    const bool batch = with_requests_ && !transaction_;
    if (planned.problem.ok() && has_body && !planned.id.empty() && !batch) {
      // What other entries may call this one: its fullUrl, and the identifiers of its resource.
      if (!planned.full_url.empty()) targets_[planned.full_url] = planned.type + "/" + planned.id;
      for (std::string& key : IdentifierKeys(*body)) by_identifier_.emplace(std::move(key), planned.id);
    }
    return planned;
  }

  // Binds the entry's resource and rewrites its references.
  void Bind(PlannedEntry& planned, std::optional<fhir::Node> body) {
    if (!planned.problem.ok() || !body || !planned.existing.empty()) return;
    if (planned.method != EntryMethod::kPost && planned.method != EntryMethod::kPut && planned.method != EntryMethod::kPatch) return;
    auto resource = fhir::BindResource(std::move(*body), *options_.definitions, options_.bind);
    if (!resource) {
      planned.problem = std::move(resource).error();
      return;
    }
    if (!planned.id.empty() && planned.method != EntryMethod::kPatch) resource->SetId(planned.id);
    planned.problem = Rewrite(resource->root());
    planned.resource = std::move(*resource);
  }

 private:
  std::string NewId(const PlannedEntry& planned, const fhir::Node& body) const {
    if (options_.keep_ids) {
      std::string_view full_url = planned.full_url;
      if (full_url.starts_with(kUrnUuid) && IsId(full_url.substr(kUrnUuid.size()))) return std::string(full_url.substr(kUrnUuid.size()));
      if (IsId(body.TextOf("id"))) return std::string(body.TextOf("id"));
    }
    return RandomUuid();
  }

  Status Rewrite(fhir::Node& node) {
    for (fhir::Property& property : node.properties) {
      const std::string_view path = property.slot == nullptr ? std::string_view() : std::string_view(property.slot->element->path);
      for (fhir::Node& value : property.values) {
        if (value.kind == fhir::JsonKind::kObject) {
          CK_RETURN_IF_ERROR(Rewrite(value));
        } else if (value.kind == fhir::JsonKind::kString && path == "Reference.reference") {
          CK_RETURN_IF_ERROR(RewriteReference(value.text));
        } else if (value.kind == fhir::JsonKind::kString && path == "Narrative.div") {
          RewriteLinks(value.text);
        }
      }
    }
    return Status::Ok();
  }

  Status RewriteReference(std::string& reference) {
    if (auto target = targets_.find(reference); target != targets_.end()) {
      reference = target->second;
      return Status::Ok();
    }
    if (!options_.base_url.empty() && reference.starts_with(options_.base_url + "/")) {
      reference.erase(0, options_.base_url.size() + 1);  // this server's: written as relative
      return Status::Ok();
    }
    const std::size_t question = reference.find('?');
    if (question == std::string::npos || reference.find('/') < question) return Status::Ok();
    const std::string type = reference.substr(0, question);
    const std::string query = reference.substr(question + 1);
    if (query.starts_with("identifier=") && query.find('&') == std::string::npos) {
      if (auto own = by_identifier_.find(type + "|" + query.substr(11)); own != by_identifier_.end()) {
        reference = type + "/" + own->second;
        return Status::Ok();
      }
    }
    if (!options_.resolve) return Status::Invalid("conditional reference '" + reference.substr(0, 200) + "' is not resolved here");
    auto resolved = options_.resolve(type, query);
    if (!resolved) {
      return Err(Status(resolved.error().code(), "conditional reference '" + reference.substr(0, 200) + "': " + resolved.error().message()));
    }
    reference = std::move(*resolved);
    return Status::Ok();
  }

  // href="<fullUrl of an entry>" in the narrative becomes href="<Type/id>".
  void RewriteLinks(std::string& div) const {
    constexpr std::string_view kHref = "href=\"";
    for (std::size_t at = div.find(kHref); at != std::string::npos; at = div.find(kHref, at)) {
      at += kHref.size();
      const std::size_t end = div.find('"', at);
      if (end == std::string::npos) return;
      auto target = targets_.find(div.substr(at, end - at));
      if (target != targets_.end()) div.replace(at, end - at, target->second);
    }
  }

  const BundlePlanOptions& options_;
  const bool transaction_;
  const bool with_requests_;  // entries carry requests (a transaction or batch)
  std::unordered_map<std::string, std::string> targets_;        // fullUrl -> "Type/id"
  std::unordered_map<std::string, std::string> by_identifier_;  // "Type|system|value" -> id
};

}  // namespace

std::string PlannedEntry::Label() const {
  return "entry " + std::to_string(index) + (full_url.empty() ? "" : " (" + full_url.substr(0, 200) + ")");
}

Result<BundlePlan> PlanBundle(fhir::Node bundle, const BundlePlanOptions& options) {
  if (bundle.TextOf("resourceType") != "Bundle") return Err(Status::Invalid("expected a Bundle"));
  BundlePlan plan;
  plan.type = bundle.TextOf("type");
  fhir::Property* entries = bundle.Find("entry");
  if (entries == nullptr) return plan;
  if (entries->values.size() > options.max_entries) {
    return Err(Status(StatusCode::kTooLarge, "the Bundle has " + std::to_string(entries->values.size()) + " entries; this server takes at most " +
                                                 std::to_string(options.max_entries)));
  }
  Planner planner(options, plan.type);
  std::vector<std::optional<fhir::Node>> bodies(entries->values.size());
  for (std::size_t i = 0; i < entries->values.size(); ++i) {
    fhir::Node& entry = entries->values[i];
    if (entry.kind != fhir::JsonKind::kObject) return Err(Status::Invalid("Bundle.entry[" + std::to_string(i) + "] is not an object"));
    plan.entries.push_back(planner.Read(entry, i, bodies[i]));
  }
  // Every entry's id is known before any reference is rewritten.
  for (std::size_t i = 0; i < plan.entries.size(); ++i) planner.Bind(plan.entries[i], std::move(bodies[i]));
  plan.order.resize(plan.entries.size());
  for (std::size_t i = 0; i < plan.order.size(); ++i) plan.order[i] = i;
  auto rank = [&](std::size_t i) {
    switch (plan.entries[i].method) {
      case EntryMethod::kDelete: return 0;
      case EntryMethod::kPost: return 1;
      case EntryMethod::kPut: case EntryMethod::kPatch: return 2;
      default: return 3;
    }
  };
  std::stable_sort(plan.order.begin(), plan.order.end(), [&](std::size_t a, std::size_t b) { return rank(a) < rank(b); });
  return plan;
}

}  // namespace ck::records
